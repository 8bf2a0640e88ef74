import { redactKeyRef } from '@cosignkit/core';
import type { BatchItemResult, SignManyInput } from '@cosignkit/core';
import { createSigner, signManyWithSigstore } from 'cosignkit/blob';
import { booleanFlag, parseFlags, stringFlag } from '../args.js';
import type { CommandContext, CommandResult } from '../command.js';
import { KEYLESS_SIGN_FLAGS, prepareSigner, signingMode } from '../keyless-sign-options.js';
import { usageError } from '../usage-error.js';
import { BATCH_FLAGS, batchFiles, jobsFlag } from './batch-flags.js';
import { outputPathFor } from './expand-inputs.js';
import { failedReport, runBatch, type ItemReport } from './run-batch.js';
import { roleOptions } from '../role-options.js';

export const SIGN_BLOB_BATCH_FLAGS = {
  ...BATCH_FLAGS,
  key: { type: 'string' },
  signatures: { type: 'boolean' },
  'skip-existing': { type: 'boolean' },
  'new-bundle-format': { type: 'boolean' },
  'tlog-upload': { type: 'boolean' },
  'use-signing-config': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  ...KEYLESS_SIGN_FLAGS,
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
  Exit 0 when every file was signed or skipped, 1 otherwise.
  Keyless (or --key with a log): one Fulcio certificate serves the whole batch while it is valid; each
  file gets its own log entry and/or timestamp, -j uploads at once (default 8). --skip-existing then
  keeps a bundle over the file's digest that passes --trusted-root's check when given.`;

/** `sign-blob` with many inputs: one key opened once, `--jobs` files at a time, atomic outputs. */
export async function runSignBlobBatch(context: CommandContext): Promise<CommandResult> {
  const command = 'sign-blob';
  const flags = parseFlags(command, context.argv, SIGN_BLOB_BATCH_FLAGS, {
    min: 0,
    max: Number.POSITIVE_INFINITY,
    names: 'files',
  });
  if (booleanFlag(flags, 'new-bundle-format') === false)
    throw usageError(command, 'a batch writes Sigstore bundles: --new-bundle-format=false is for one file');
  const mode = signingMode(command, flags, context);
  const outputDir = stringFlag(flags, 'output-dir');
  const signatures = booleanFlag(flags, 'signatures') === true;
  const files = await batchFiles(command, 'sign', flags, context);
  const inputs: SignManyInput[] = files.map((file) => ({
    file,
    bundle: outputPathFor(file, '.sigstore.json', outputDir, context.cwd),
    ...(signatures ? { outputSignature: outputPathFor(file, '.sig', outputDir, context.cwd) } : {}),
  }));
  const jobs = jobsFlag(command, flags);
  if (mode.kind !== 'key') {
    // Keyless or keyed with a log: one signer (one certificate) for the batch, network-bound per file.
    const prepared = await prepareSigner(command, mode, flags, context);
    const result = await runBatch(
      context,
      { done: 'signed', command },
      inputs.length,
      signManyWithSigstore(prepared.signer, inputs, {
        ...(jobs !== undefined ? { jobs } : {}),
        failFast: booleanFlag(flags, 'fail-fast') === true,
        skipExisting: booleanFlag(flags, 'skip-existing') === true,
        signal: context.signal,
        ...(prepared.check
          ? { check: (bundle, digest) => prepared.check!(bundle, { digest: { algorithm: 'sha256', value: digest } }) }
          : {}),
      }),
      (item) => signedReport(item, (r) => ({ digest: r.digest, ...(r.logIndex ? { logIndex: r.logIndex } : {}) })),
    );
    return {
      ...result,
      notes: [...prepared.notes, ...(result.notes ?? [])],
      data: {
        ...(result.data as object),
        mode: mode.kind,
        ...(mode.kind === 'keyed-log' ? { key: redactKeyRef(mode.key) } : {}),
        ...(prepared.identity ? { identity: prepared.identity } : {}),
      },
    };
  }
  const key = mode.key;
  const signer = createSigner(roleOptions(context));
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
    (item) => signedReport(item, (r) => ({ digest: r.digest, engine: r.engine })),
  );
  return { ...result, data: { ...(result.data as object), key: redactKeyRef(key) } };
}

/** One signed (or skipped, or failed) file as the batch reports it: its outputs, then what its result adds. */
function signedReport<R>(
  item: BatchItemResult<SignManyInput, R>,
  fromResult: (result: R) => Record<string, unknown>,
): ItemReport {
  if (item.status === 'failed') return failedReport(item.input.file, item);
  return {
    file: item.input.file,
    status: item.status,
    fields: {
      bundle: item.input.bundle,
      ...(item.input.outputSignature ? { signature: item.input.outputSignature } : {}),
      ...(item.result ? fromResult(item.result) : {}),
    },
  };
}
