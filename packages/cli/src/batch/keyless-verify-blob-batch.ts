import type { VerifyManyInput } from '@cosignkit/core';
import { runPool } from 'cosignkit/blob';
import { booleanFlag, type ParsedFlags } from '../args.js';
import type { CommandContext, CommandResult } from '../command.js';
import { prepare } from '../keyless-verify-options.js';
import { usageError } from '../usage-error.js';
import { jobsFlag } from './batch-flags.js';
import { failedReport, runBatch, verificationReport } from './run-batch.js';

/**
 * `verify-blob` of many files signed keyless: the identity policy is compiled and the trusted root loaded
 * once, then each file is checked against its own bundle, `--jobs` at a time. Keyless needs the bundle (the
 * certificate and log entry are in it), so `--signatures` is refused.
 */
export async function runKeylessVerifyBlobBatch(
  context: CommandContext,
  flags: ParsedFlags,
  inputs: readonly VerifyManyInput[],
): Promise<CommandResult> {
  const command = 'verify-blob';
  if (booleanFlag(flags, 'signatures') === true)
    throw usageError(command, 'keyless verification reads each file’s bundle: drop --signatures');
  const { sigstore, options, rootNote } = await prepare(command, flags, context);
  const jobs = jobsFlag(command, flags);
  const results = runPool(
    inputs,
    {
      ...(jobs !== undefined ? { jobs } : {}),
      failFast: booleanFlag(flags, 'fail-fast') === true,
      signal: context.signal,
    },
    async (input) => ({
      status: 'ok' as const,
      result: await sigstore.verifyBundleFile(input.bundle!, input.file, options),
    }),
  );
  const done = await runBatch(context, { done: 'verified', command }, inputs.length, results, (item) =>
    item.status === 'failed'
      ? failedReport(item.input.file, item)
      : verificationReport(item.input.file, item.result!, { bundle: item.input.bundle }),
  );
  return { ...done, notes: [rootNote, ...(done.notes ?? [])] };
}
