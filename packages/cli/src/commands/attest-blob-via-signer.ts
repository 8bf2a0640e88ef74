import { lstat, open, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { CosignkitError, digestFile, fileError, writeFileAtomic } from '@cosignkit/core';
import { resolvePredicateType } from '@cosignkit/dsse';
import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { usageError } from '../usage-error.js';
import { VERSION } from '../version.js';
import localAttestBlob from './attest-blob.js';

/**
 * `attest-blob` with `--signer-url`: the statement is signed by a cosignkit signing service instead of a
 * local key. Without --signer-url the command is the local attest-blob, unchanged.
 */
const FLAGS = {
  'signer-url': { type: 'string' },
  'token-file': { type: 'string' },
  'dpop-key': { type: 'string' },
  'signing-mode': { type: 'string' },
  'poe-file': { type: 'string' },
  'poe-mtls': { type: 'boolean' },
  'ca-cert': { type: 'string' },
  'client-cert': { type: 'string' },
  'client-key': { type: 'string' },
  'scanner-image-digest': { type: 'string' },
  predicate: { type: 'string' },
  type: { type: 'string' },
  'output-file': { type: 'string' },
  bundle: { type: 'string' },
} as const;

const MAX_SECRET_BYTES = 16 * 1024;
const MAX_PREDICATE_BYTES = 16 * 1024 * 1024;

const HELP = `Usage: cosignkit attest-blob --key <ref> --predicate <file> [--type <name|URI>] [flags] <file>
       cosignkit attest-blob --signer-url <url> --token-file <file> [--dpop-key <file>]
                             (--poe-file <file> | --poe-mtls)
                             --scanner-image-digest sha256:<hex> --predicate <file> [--type <name|URI>]
                             [--ca-cert <pem>] [--client-cert <pem> --client-key <pem>]
                             [--output-file <file>] [--bundle <file>] <file>

Without --signer-url: signs locally (see below). With --signer-url: a cosignkit signing service signs
the in-toto statement about <file> with its key (one command for a CI job); the envelope is printed or
written to --output-file, the Sigstore bundle to --bundle.

Signer flags:
  --signer-url <url>               the service (https://host:port)
  --token-file <file>              the OpTok (an Authority JWT bound to the client certificate or,
                                   with cnf.jkt, to a DPoP key)
  --dpop-key <file>                for a DPoP-bound OpTok: the private key it is bound to (PEM or JWK,
                                   P-256 or Ed25519; owner-only permissions); each request carries a
                                   fresh RFC 9449 proof signed with it
  --poe-file <file>                the proof of entitlement: a licence JWT
  --poe-mtls                       the proof of entitlement is the client certificate itself
  --scanner-image-digest <digest>  the scanner release the service checks before signing
  --signing-mode <kms|keyless>     the service's key, or a Fulcio certificate for the service's own
                                   identity (default: what the service is configured for)
  --ca-cert, --client-cert, --client-key <pem>   TLS trust and the mTLS client identity

Local signing:
`;

const command: Command = {
  summary: 'attest a file: sign an in-toto statement about it as a DSSE envelope (locally or through a signer)',
  help: HELP + localAttestBlob.help.split('\n').slice(1).join('\n'),
  async run(context) {
    const remote = context.argv.some((a) => a === '--signer-url' || a.startsWith('--signer-url='));
    if (!remote) return localAttestBlob.run(context);
    const flags = parseFlags('attest-blob', context.argv, FLAGS, { min: 1, max: 1, names: 'the file to attest' });
    const url = stringFlag(flags, 'signer-url')!;
    if (!/^https?:\/\//.test(url)) throw usageError('attest-blob', '--signer-url takes an https:// URL');
    const tokenFile = stringFlag(flags, 'token-file');
    if (tokenFile === undefined)
      throw usageError('attest-blob', '--signer-url needs --token-file <file> (the OpTok; never on the command line)');
    const predicatePath = stringFlag(flags, 'predicate');
    if (predicatePath === undefined) throw usageError('attest-blob', 'missing --predicate <file>');
    const scanner = stringFlag(flags, 'scanner-image-digest');
    if (scanner === undefined)
      throw usageError('attest-blob', '--signer-url needs --scanner-image-digest sha256:<hex>');
    const poeFile = stringFlag(flags, 'poe-file');
    const poeMtls = flags.values['poe-mtls'] === true;
    if ((poeFile === undefined) === !poeMtls)
      throw usageError('attest-blob', 'give one of --poe-file <licence JWT file> and --poe-mtls');
    const signingMode = stringFlag(flags, 'signing-mode');
    if (signingMode !== undefined && signingMode !== 'kms' && signingMode !== 'keyless')
      throw usageError('attest-blob', '--signing-mode takes kms or keyless');
    const file = flags.positionals[0]!;
    const predicateType = resolvePredicateType(stringFlag(flags, 'type') ?? 'custom');

    const token = await readSmallFile(tokenFile, MAX_SECRET_BYTES);
    const predicateText = await readSmallFile(predicatePath, MAX_PREDICATE_BYTES);
    let predicate: unknown;
    try {
      predicate = JSON.parse(predicateText);
    } catch {
      throw new CosignkitError('USAGE', `${predicatePath}: the signer takes a JSON predicate`);
    }
    const pem = async (name: string) => {
      const path = stringFlag(flags, name);
      return path === undefined ? undefined : readSmallFile(path, 1024 * 1024);
    };
    const [ca, cert, key] = await Promise.all([pem('ca-cert'), pem('client-cert'), pem('client-key')]);
    const { SignerClient, certificateThumbprintOfPem, dpopBindingOf, readDpopKey } = await import('@cosignkit/server');
    // The token says whether it is DPoP-bound (cnf.jkt); the key must be the one it names. Checked here so a
    // mismatch is a clear local error, not a 401 from the service.
    const dpopKeyPath = stringFlag(flags, 'dpop-key');
    const jkt = dpopBindingOf(token);
    let dpopKey;
    if (dpopKeyPath !== undefined) {
      if (jkt === undefined)
        throw usageError('attest-blob', '--dpop-key given, but the token is not DPoP-bound (it has no cnf.jkt)');
      dpopKey = await readDpopKey(await readSecretKeyFile(dpopKeyPath), dpopKeyPath);
      if (dpopKey.thumbprint !== jkt)
        throw new CosignkitError(
          'VERIFICATION_FAILED',
          `${dpopKeyPath} is not the key the token is bound to (cnf.jkt)`,
        );
    } else if (jkt !== undefined) {
      throw usageError(
        'attest-blob',
        'the token is DPoP-bound (cnf.jkt): pass --dpop-key <file> with the key it is bound to',
      );
    }
    const poe = poeMtls
      ? { format: 'mtls' as const, value: cert === undefined ? missingCert() : certificateThumbprintOfPem(cert) }
      : { format: 'jwt' as const, value: await readSmallFile(poeFile!, MAX_SECRET_BYTES) };
    const sha256 = (await digestFile(file, 'sha256', { signal: context.signal })).toString('hex');
    const client = new SignerClient({
      url,
      token,
      clientVersion: VERSION.replace(/[-+].*$/, ''),
      ...(dpopKey ? { dpopKey: dpopKey.keyPair } : {}),
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
    });
    let response;
    try {
      response = await client.signDsse({
        subject: [{ name: basename(file), digest: { sha256 } }],
        predicateType,
        predicate,
        scannerImageDigest: scanner,
        poe,
        ...(signingMode ? { options: { signingMode } } : {}),
      });
    } finally {
      client.close();
    }
    const envelopeText = JSON.stringify(response.envelope);
    const outputFile = stringFlag(flags, 'output-file');
    const bundlePath = stringFlag(flags, 'bundle');
    if (outputFile !== undefined)
      await writeFileAtomic(outputFile, `${envelopeText}\n`, { mode: 0o644, overwrite: true });
    if (bundlePath !== undefined)
      await writeFileAtomic(bundlePath, JSON.stringify(response.bundle), { mode: 0o644, overwrite: true });
    const signedBy =
      response.identity.mode === 'keyless'
        ? `certificate ${response.identity.keyId.slice(0, 16)}… for ${response.identity.subject ?? 'the service identity'}`
        : `key ${response.identity.keyId}`;
    const notes = [`Signed by ${url} (${signedBy}), audit id ${response.auditId}`];
    if (outputFile !== undefined) notes.push(`Wrote envelope to ${outputFile}`);
    if (bundlePath !== undefined) notes.push(`Wrote bundle to ${bundlePath}`);
    return {
      text: outputFile === undefined ? envelopeText : '',
      data: {
        predicateType,
        subjects: [{ name: basename(file), digest: { sha256 } }],
        envelope: response.envelope,
        identity: response.identity,
        quota: response.quota,
        auditId: response.auditId,
      },
      notes,
    };
  },
};

function missingCert(): never {
  throw new CosignkitError('USAGE', '--poe-mtls needs --client-cert (see "cosignkit attest-blob --help")');
}

/** A private key file: a regular file readable by its owner only (as ssh insists), at most 64 KiB. */
async function readSecretKeyFile(path: string): Promise<string> {
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    throw fileError(path, error);
  }
  if (!info.isFile()) throw new CosignkitError('NOT_A_FILE', `${path} is not a regular file`);
  if ((info.mode & 0o077) !== 0)
    throw new CosignkitError(
      'USAGE',
      `${path} is readable by others (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`,
    );
  return readSmallFile(path, 64 * 1024);
}

/** A regular file, at most `max` bytes, checked before reading; trailing whitespace trimmed. */
async function readSmallFile(path: string, max: number): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
    const info = await handle.stat();
    if (!info.isFile()) throw new CosignkitError('NOT_A_FILE', `${path} is not a regular file`);
    if (info.size > max) throw new CosignkitError('USAGE', `${path} is larger than ${max} bytes`);
    return (await readFile(handle, 'utf8')).trim();
  } catch (error) {
    throw CosignkitError.isInstance(error) ? error : fileError(path, error);
  } finally {
    await handle?.close();
  }
}

export default command;
