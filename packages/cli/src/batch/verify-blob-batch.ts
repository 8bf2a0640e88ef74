import { access } from 'node:fs/promises';
import type { VerifyManyInput } from '@cosignkit/core';
import { CosignkitError } from '@cosignkit/core';
import { createVerifier } from 'cosignkit/blob';
import { booleanFlag, parseFlags, stringFlag } from '../args.js';
import type { CommandContext, CommandResult } from '../command.js';
import { isKeyless, KEYLESS_FLAGS } from '../keyless-verify-options.js';
import { BATCH_FLAGS, batchFiles, jobsFlag } from './batch-flags.js';
import { outputPathFor } from './expand-inputs.js';
import { runKeylessVerifyBlobBatch } from './keyless-verify-blob-batch.js';
import { failedReport, runBatch, verificationReport } from './run-batch.js';

export const VERIFY_BLOB_BATCH_FLAGS = {
  ...BATCH_FLAGS,
  ...KEYLESS_FLAGS,
  key: { type: 'string' },
  signatures: { type: 'boolean' },
  'insecure-ignore-tlog': { type: 'boolean' },
  'new-bundle-format': { type: 'boolean' },
  'trusted-root': { type: 'string' },
} as const;

export const VERIFY_BLOB_BATCH_HELP = `
Many files (several paths, globs, directories with --recursive, --files-from): each <file> is verified
with <file>.sigstore.json, beside it or under --output-dir (with --signatures: <file>.sig instead).
  -r, --recursive, --files-from <file|->, --output-dir <dir>, -j/--jobs <n>, --fail-fast: as sign-blob
  Each failure is one line on stderr naming its file, then a summary; --json prints one JSON line per file.
  Exit 0 when every file verified, 2 when any did not, 1 when any could not be checked.
  Keyless (the --certificate-* flags, no --key): the policy and root are loaded once for the batch.`;

/** `verify-blob` with many inputs: one public key, `--jobs` files at a time, every file's verdict reported. */
export async function runVerifyBlobBatch(context: CommandContext): Promise<CommandResult> {
  const command = 'verify-blob';
  const flags = parseFlags(command, context.argv, VERIFY_BLOB_BATCH_FLAGS, {
    min: 0,
    max: Number.POSITIVE_INFINITY,
    names: 'files',
  });
  // No key on the line or in the config (or an identity flag): keyless, as cosign.
  const keyless = isKeyless(command, flags, context);
  const key = stringFlag(flags, 'key') ?? context.config.defaultKey;
  const trustedRoot = stringFlag(flags, 'trusted-root');
  if (trustedRoot !== undefined) {
    await access(trustedRoot).catch((error: unknown) => {
      throw new CosignkitError('FILE_NOT_FOUND', `--trusted-root ${trustedRoot}: no such file`, { cause: error });
    });
  }
  const outputDir = stringFlag(flags, 'output-dir');
  const signatures = booleanFlag(flags, 'signatures') === true;
  const files = await batchFiles(command, 'verify', flags, context);
  const inputs: VerifyManyInput[] = files.map((file) =>
    signatures
      ? { file, signature: outputPathFor(file, '.sig', outputDir, context.cwd) }
      : { file, bundle: outputPathFor(file, '.sigstore.json', outputDir, context.cwd) },
  );
  if (keyless || key === undefined) return runKeylessVerifyBlobBatch(context, flags, inputs);
  const verifier = createVerifier({
    engine: context.engine,
    keys: context.keys,
    logger: context.logger,
    env: context.env,
  });
  const jobs = jobsFlag(command, flags);
  return runBatch(
    context,
    { done: 'verified', command },
    inputs.length,
    verifier.verifyMany(inputs, {
      key,
      ...(jobs !== undefined ? { jobs } : {}),
      failFast: booleanFlag(flags, 'fail-fast') === true,
      signal: context.signal,
    }),
    (item) => {
      const source = item.input.bundle ? { bundle: item.input.bundle } : { signature: item.input.signature };
      if (item.status === 'failed') return failedReport(item.input.file, item);
      return verificationReport(item.input.file, item.result!, source);
    },
  );
}
