import { unlink } from 'node:fs/promises';
import { createSigner } from 'cosignkit/blob';
import { parseKeyRef, redactKeyRef, writeFileAtomic } from '@cosignkit/core';
import { booleanFlag, parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { KEYLESS_SIGN_FLAGS, KEYLESS_SIGN_HELP, signBlobWithServices, signingMode } from '../keyless-sign-options.js';
import { usageError } from '../usage-error.js';
import { keyNote, PUSH_FLAGS, PUSH_HELP, pushRequested, signBlobAndPush } from './blob-push.js';
import { parseArtifactDigest } from './artifact-digest.js';
import { roleOptions } from '../role-options.js';
import { oneFileFlags } from './one-file-flags.js';

const FLAGS = {
  key: { type: 'string' },
  'output-signature': { type: 'string' },
  output: { type: 'string' },
  bundle: { type: 'string' },
  'new-bundle-format': { type: 'boolean' },
  'tlog-upload': { type: 'boolean' },
  'use-signing-config': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  ...KEYLESS_SIGN_FLAGS,
  ...PUSH_FLAGS,
} as const;

const command: Command = {
  summary: 'sign a file with a key (a .sig and/or a Sigstore bundle)',
  help: `Usage: cosignkit sign-blob [--key <ref>] [--output-signature <file>] [--bundle <file>] [flags] <file|sha256:hex>
       cosignkit sign-blob [--key <ref>] --push <repo[:tag]> [-a key=value]... [--format legacy|bundle] <file>

Signs <file> with the key, as "cosign sign-blob --key … --tlog-upload=false" does. Without
--output-signature the base64 signature is printed on stdout.
sha256:<hex> instead of a file signs that digest, computed elsewhere (native engine, ECDSA keys): the
signature is what signing the file itself would give, and verify-blob checks it against the file.

Flags:
  --key <ref>                  the key: cosign.key, file:…, pkcs11:…, tpm:…, keyring:… (default: the
                               configured default key, see "cosignkit key set-default")
  --output-signature <file>    write the base64 signature to <file> (also --output)
  --bundle <file>              write a Sigstore bundle to <file>
  --new-bundle-format[=bool]   the bundle is a Sigstore v0.3 bundle (default true, as cosign v3);
                               --new-bundle-format=false writes cosign's legacy {"base64Signature": …}
  --use-signing-config[=bool]  =true with --key: upload to the log (public good's, or --signing-config's)
  -y, --yes                    accepted for cosign compatibility (nothing to confirm)

${PUSH_HELP}

${KEYLESS_SIGN_HELP}

The engine used is noted on stderr ("engine: native" or "engine: cosign"); choose it with --engine.
`,
  moreHelp: async () => (await import('../batch/sign-blob-batch.js')).SIGN_BLOB_BATCH_HELP,
  async run(context) {
    // More than one input (or a glob, a directory, a batch flag): the batch path, in ../batch/, loaded only
    // to decide a line that is not plainly for one file.
    // A line plainly for one file is parsed once (the parse that decided it is the command's).
    let flags = oneFileFlags('sign-blob', context.argv, FLAGS);
    if (!flags) {
      const [{ batchRequested }, batch] = await Promise.all([
        import('../batch/batch-flags.js'),
        import('../batch/sign-blob-batch.js'),
      ]);
      if (batchRequested('sign-blob', context.argv, { ...FLAGS, ...batch.SIGN_BLOB_BATCH_FLAGS }))
        return batch.runSignBlobBatch(context);
      flags = parseFlags('sign-blob', context.argv, FLAGS, { min: 1, max: 1, names: 'the file to sign' });
    }
    const mode = signingMode('sign-blob', flags, context);
    if (pushRequested(flags)) {
      if (mode.kind !== 'key') throw usageError('sign-blob', '--push signs with a key (--key or the default key)');
      return signBlobAndPush(context, flags, stringFlag(flags, 'key'));
    }
    if (mode.kind !== 'key') return signBlobWithServices('sign-blob', mode, flags, context);
    const outputSignature = stringFlag(flags, 'output-signature') ?? stringFlag(flags, 'output');
    const bundle = stringFlag(flags, 'bundle');
    const legacyBundle = bundle !== undefined && booleanFlag(flags, 'new-bundle-format') === false;
    // Undefined without --key: the role then takes the default key, or the fallback key when the default
    // key's backend is unavailable (config fallbackKey), and reports which it used.
    const key = stringFlag(flags, 'key');
    const signer = createSigner(roleOptions(context));
    const file = flags.positionals[0]!;
    const digest = parseArtifactDigest(file);
    const result = await signer.signBlobLocal(file, {
      key,
      ...(digest !== undefined ? { digest } : {}),
      ...(outputSignature ? { outputSignature } : {}),
      ...(bundle && !legacyBundle ? { bundle } : {}),
      signal: context.signal,
    });
    const keyBackend = result.keyBackend ?? parseKeyRef(key ?? mode.key).scheme;
    // The design's provenance metadata: which backend held the key, and the key's id (its SPKI fingerprint).
    const notes = [`engine: ${result.engine}`, keyNote(keyBackend, result.keyFingerprint)];
    if (legacyBundle) {
      try {
        await writeFileAtomic(bundle, `${JSON.stringify({ base64Signature: result.signature })}\n`, {
          mode: 0o644,
          overwrite: true,
        });
      } catch (error) {
        // Both outputs or neither: take back the signature file the signer wrote.
        if (outputSignature) await unlink(outputSignature).catch(() => undefined);
        throw error;
      }
    }
    if (outputSignature) notes.push(`Wrote signature to ${outputSignature}`);
    if (bundle) notes.push(`Wrote bundle to ${bundle}`);
    return {
      text: outputSignature ? '' : result.signature,
      data: {
        ...result,
        key: result.key ?? redactKeyRef(key ?? mode.key),
        keyBackend,
        keyId: result.keyFingerprint,
        ...(bundle ? { bundlePath: bundle } : {}),
      },
      notes,
    };
  },
};

export default command;
