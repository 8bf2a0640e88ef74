import { access } from 'node:fs/promises';
import { CosignkitError } from '@cosignkit/core';
import { createVerifier } from 'cosignkit/blob';
import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { usageError } from '../usage-error.js';
import { KEYLESS_FLAGS, KEYLESS_HELP, isKeyless, verifyBlobKeyless } from '../keyless-verify-options.js';
import { oneFileFlags } from './one-file-flags.js';

const FLAGS = {
  key: { type: 'string' },
  signature: { type: 'string' },
  bundle: { type: 'string' },
  certificate: { type: 'string' },
  'certificate-chain': { type: 'string' },
  'rfc3161-timestamp': { type: 'string' },
  'rekor-url': { type: 'string' },
  'insecure-ignore-tlog': { type: 'boolean' },
  'new-bundle-format': { type: 'boolean' },
  'trusted-root': { type: 'string' },
  ...KEYLESS_FLAGS,
} as const;

const command: Command = {
  summary: 'verify a file against a public key and a signature or bundle',
  configOnUse: true,
  help: `Usage: cosignkit verify-blob --key <pub|ref> (--signature <file> | --bundle <file>) [flags] <file>

Verifies <file> as "cosign verify-blob --key … --insecure-ignore-tlog" does and prints "Verified OK".
Exit code 2 when the signature does not verify, 3 when the signature, bundle or key cannot be parsed.

Flags:
  --key <pub|ref>              a PEM public key file, or any key reference (its public key is used;
                               default: the configured default key)
  --signature <file>           a base64 (or raw DER) signature, as sign-blob writes it
  --bundle <file>              a Sigstore bundle (v0.1–v0.3) or cosign's legacy bundle
  --insecure-ignore-tlog       accepted; cosignkit checks no transparency log for key signatures yet
  --trusted-root <file>        accepted (must exist); key-based verification needs no trust root
  --new-bundle-format          accepted; the bundle's format is read from the file

<file> may also be sha256:<hex> (the artifact's digest) for keyless bundles.

cosign's pre-bundle keyless form: --certificate <pem> [--certificate-chain <pem>] --signature <file>, with
the log entry from --bundle <cosign legacy bundle> (its rekorBundle), or looked up in Rekor online as cosign
does (--rekor-url <url>, default the trusted root's v1 log; refused with --offline), or none with
--insecure-ignore-tlog (the certificate is then checked at the current time, or at --rfc3161-timestamp
<file>'s time). A looked-up entry is verified as a bundled one: its SET against the root's log key.

${KEYLESS_HELP}
`,
  moreHelp: async () => (await import('../batch/verify-blob-batch.js')).VERIFY_BLOB_BATCH_HELP,
  async run(context) {
    // More than one input (or a glob, a directory, a batch flag): the batch path, in ../batch/, loaded only
    // to decide a line that is not plainly for one file. A line plainly for one file is parsed once.
    let flags = oneFileFlags('verify-blob', context.argv, FLAGS);
    if (!flags) {
      const [{ batchRequested }, batch] = await Promise.all([
        import('../batch/batch-flags.js'),
        import('../batch/verify-blob-batch.js'),
      ]);
      if (batchRequested('verify-blob', context.argv, { ...FLAGS, ...batch.VERIFY_BLOB_BATCH_FLAGS }))
        return batch.runVerifyBlobBatch(context);
      flags = parseFlags('verify-blob', context.argv, FLAGS, { min: 1, max: 1, names: 'the file to verify' });
    }
    const signature = stringFlag(flags, 'signature');
    const bundle = stringFlag(flags, 'bundle');
    if (signature === undefined && bundle === undefined) {
      throw usageError('verify-blob', 'pass --signature <file> or --bundle <file>');
    }
    if (stringFlag(flags, 'certificate') !== undefined) {
      if (stringFlag(flags, 'key') !== undefined)
        throw usageError('verify-blob', '--key and --certificate exclude each other');
      return verifyBlobKeyless(context, flags);
    }
    if (isKeyless('verify-blob', flags, context)) return verifyBlobKeyless(context, flags);
    const key = stringFlag(flags, 'key') ?? context.config.defaultKey;
    if (key === undefined) throw usageError('verify-blob', 'no key: pass --key <public key file or ref>');
    const trustedRoot = stringFlag(flags, 'trusted-root');
    if (trustedRoot !== undefined) {
      await access(trustedRoot).catch((error: unknown) => {
        throw new CosignkitError('FILE_NOT_FOUND', `--trusted-root ${trustedRoot}: no such file`, { cause: error });
      });
    }
    const verifier = createVerifier({
      engine: context.engine,
      keys: context.keys,
      logger: context.logger,
      env: context.env,
    });
    const file = flags.positionals[0]!;
    const result = await verifier.verifyLocal(file, {
      key,
      ...(signature !== undefined ? { signature } : {}),
      ...(bundle !== undefined ? { bundle } : {}),
      signal: context.signal,
    });
    if (!result.verified) {
      const failure = result.failures[0];
      const message = failure?.message ?? 'the signature does not match the file and key';
      // One line on stderr, like every error; the engine is named in it rather than on a line of its own.
      const line = `cosignkit: verification failed (engine: ${result.engine}): ${message} [${failure?.code ?? 'VERIFICATION_FAILED'}]`;
      return { exitCode: 2, data: result, notes: [line] };
    }
    return { text: 'Verified OK', data: result, notes: [`engine: ${result.engine}`] };
  },
};

export default command;
