import { CosignkitError, parsePublicKeyPem, readPublicKeyText, writeFileAtomic } from '@cosignkit/core';
import { keyManifestSignatureLocation, readKeyMap, serializeKeyMap } from '@cosignkit/dsse';
import { createSigner } from 'cosignkit';
import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { usageError } from '../usage-error.js';
import { roleOptions } from '../role-options.js';

const FLAGS = {
  key: { type: 'string' },
  add: { type: 'string', multiple: true },
  'output-signature': { type: 'string' },
} as const;

/** How many keys one manifest may name: a verifier parses every one of them. */
const MAX_KEYS = 256;

const command: Command = {
  summary: 'make a root-signed key manifest (keys.json + keys.sig) for verify-dsse --keys-root-key',
  help: `Usage: cosignkit sign-key-manifest --key <root key ref> [--add <keyid>=<pub.pem>]... [--output-signature <sig>] <keys.json>

Signs a key map ({"<keyid>": "<PEM public key>", …}) with the root key, as ReleaseGate publishes
/.well-known/…-keys.json with its .sig: the signature is over the manifest's exact bytes, base64, written
to <keys.json> with .json replaced by .sig (or --output-signature). Verifiers pin the root's public key:
"verify-dsse --keys-url …/keys.json --keys-root-key root.pub" trusts no key until the signature verifies.

Flags:
  --key <ref>                 the root key (any backend; default: the configured default key)
  --add <keyid>=<pub.pem>     write <keys.json> anew with these keys (repeatable); without --add the
                              existing <keys.json> is checked and signed as it is
  --output-signature <file>   where the signature goes (default <keys>.sig)`,
  async run(context) {
    const flags = parseFlags('sign-key-manifest', context.argv, FLAGS, { min: 1, max: 1, names: 'the manifest' });
    const manifest = flags.positionals[0]!;
    const signature = stringFlag(flags, 'output-signature') ?? keyManifestSignatureLocation(manifest);
    if (signature === manifest) throw usageError('sign-key-manifest', 'the signature cannot overwrite the manifest');
    const adds = (flags.values.add as string[] | undefined) ?? [];
    if (adds.length > MAX_KEYS) throw usageError('sign-key-manifest', `at most ${MAX_KEYS} keys in one manifest`);
    if (adds.length > 0) {
      const keys: Record<string, string> = {};
      for (const item of adds) {
        const eq = item.indexOf('=');
        if (eq <= 0) throw usageError('sign-key-manifest', `--add "${item}" is not <keyid>=<pub.pem>`);
        const id = item.slice(0, eq);
        if (Object.hasOwn(keys, id)) throw usageError('sign-key-manifest', `keyid "${id}" given twice`);
        const path = item.slice(eq + 1);
        const pem = await readPublicKeyText(path);
        parsePublicKeyPem(pem, path);
        keys[id] = pem.trim();
      }
      await writeFileAtomic(manifest, serializeKeyMap(keys), { mode: 0o644, overwrite: true });
    }
    // What verifiers will parse: a manifest that does not parse is not signed.
    const ids = (await readKeyMap(manifest)).map((k) => k.keyid);
    const signer = createSigner(roleOptions(context));
    const key = stringFlag(flags, 'key');
    if (key === undefined && context.config.defaultKey === undefined)
      throw new CosignkitError('USAGE', 'no root key: pass --key <ref> or set a default key');
    const result = await signer.signBlobLocal(manifest, {
      ...(key !== undefined ? { key } : {}),
      outputSignature: signature,
      signal: context.signal,
    });
    return {
      text: '',
      data: { manifest, signature, keyids: ids, rootKeyId: result.keyFingerprint, rootKey: result.key },
      notes: [
        `engine: ${result.engine}`,
        ...(adds.length > 0 ? [`Wrote key manifest to ${manifest}`] : []),
        `Signed ${ids.length} key(s) (${ids.join(', ')}); wrote signature to ${signature}`,
      ],
    };
  },
};

export default command;
