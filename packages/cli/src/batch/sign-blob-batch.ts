import { redactKeyRef } from '@cosignkit/core';
import type { SignManyInput } from '@cosignkit/core';
import { createSigner } from 'cosignkit';
import { booleanFlag, parseFlags, stringFlag } from '../args.js';
import type { CommandContext, CommandResult } from '../command.js';
import { usageError } from '../usage-error.js';
import { BATCH_FLAGS, batchFiles, jobsFlag, refuseUnbatchableSigningFlags } from './batch-flags.js';
import { outputPathFor } from './expand-inputs.js';
import { failedReport, runBatch } from './run-batch.js';

export const SIGN_BLOB_BATCH_FLAGS = {
  ...BATCH_FLAGS,
  key: { type: 'string' },
  signatures: { type: 'boolean' },
  'skip-existing': { type: 'boolean' },
  'new-bundle-format': { type: 'boolean' },
  'tlog-upload': { type: 'boolean' },
  'use-signing-config': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
} as const;

export const SIGN_BLOB_BATCH_HELP = `
Many files (several paths, globs, directories with --recursive, --files-from): each <file> gets
<file>.sigstore.json (and <file>.sig with --signatures), beside it or under --output-dir.
  -r, --recursive              sign the regular files under directories (outputs are never inputs)
  --files-from <file|->        read paths, one a line, from a file or stdin
  --output-dir <dir>           write outputs under <dir>, at the inputs' paths relative to the working dir
  --signatures                 also write <file>.sig (base64)
  -j, --jobs <n>               files in flight at once (default 8)
  --fail-fast                  stop at the first failure (default: keep going, report each)
  --skip-existing              skip files whose outputs exist and verify (resume an interrupted run)
  A summary goes to stderr, a progress bar too on a terminal; --json prints one JSON line per file.
  Exit 0 when every file was signed or skipped, 1 otherwise.`;

/** `sign-blob` with many inputs: one key opened once, `--jobs` files at a time, atomic outputs. */
export async function runSignBlobBatch(context: CommandContext): Promise<CommandResult> {
  const command = 'sign-blob';
  const flags = parseFlags(command, context.argv, SIGN_BLOB_BATCH_FLAGS, {
    min: 0,
    max: Number.POSITIVE_INFINITY,
    names: 'files',
  });
  refuseUnbatchableSigningFlags(command, flags);
  const key = stringFlag(flags, 'key') ?? context.config.defaultKey;
  if (key === undefined) throw usageError(command, 'no key: pass --key <ref>');
  const outputDir = stringFlag(flags, 'output-dir');
  const signatures = booleanFlag(flags, 'signatures') === true;
  const files = await batchFiles(command, 'sign', flags, context);
  const inputs: SignManyInput[] = files.map((file) => ({
    file,
    bundle: outputPathFor(file, '.sigstore.json', outputDir, context.cwd),
    ...(signatures ? { outputSignature: outputPathFor(file, '.sig', outputDir, context.cwd) } : {}),
  }));
  const signer = createSigner({
    engine: context.engine,
    keys: context.keys,
    logger: context.logger,
    env: context.env,
    defaultKey: context.config.defaultKey,
    fallbackKey: context.config.fallbackKey,
  });
  const jobs = jobsFlag(command, flags);
  const result = await runBatch(
    context,
    { done: 'signed', command },
    inputs.length,
    signer.signMany(inputs, {
      key,
      ...(jobs !== undefined ? { jobs } : {}),
      failFast: booleanFlag(flags, 'fail-fast') === true,
      skipExisting: booleanFlag(flags, 'skip-existing') === true,
      signal: context.signal,
    }),
    (item) =>
      item.status === 'failed'
        ? failedReport(item.input.file, item)
        : {
            file: item.input.file,
            status: item.status,
            fields: {
              bundle: item.input.bundle,
              ...(item.input.outputSignature ? { signature: item.input.outputSignature } : {}),
              ...(item.result ? { digest: item.result.digest, engine: item.result.engine } : {}),
            },
          },
  );
  return { ...result, data: { ...(result.data as object), key: redactKeyRef(key) } };
}
