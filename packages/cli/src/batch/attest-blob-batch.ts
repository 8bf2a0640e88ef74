import type { AttestManyInput } from '@cosignkit/core';
import { redactKeyRef } from '@cosignkit/core';
import { createAttester } from 'cosignkit';
import { booleanFlag, parseFlags, stringFlag } from '../args.js';
import type { CommandContext, CommandResult } from '../command.js';
import { usageError } from '../usage-error.js';
import { BATCH_FLAGS, batchFiles, jobsFlag, refuseUnbatchableSigningFlags } from './batch-flags.js';
import { outputPathFor } from './expand-inputs.js';
import { failedReport, runBatch } from './run-batch.js';
import { roleOptions } from '../role-options.js';

/** An attestation's bundle is named apart from a signature's, so both can sit beside the same file. */
export const ATTESTATION_SUFFIX = '.att.sigstore.json';

export const ATTEST_BLOB_BATCH_FLAGS = {
  ...BATCH_FLAGS,
  key: { type: 'string' },
  predicate: { type: 'string' },
  type: { type: 'string' },
  'statement-version': { type: 'string' },
  'skip-existing': { type: 'boolean' },
  'new-bundle-format': { type: 'boolean' },
  'tlog-upload': { type: 'boolean' },
  'use-signing-config': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
} as const;

export const ATTEST_BLOB_BATCH_HELP = `
Many files (several paths, globs, directories with --recursive, --files-from): each <file> gets a
Sigstore bundle <file>.att.sigstore.json with its own statement (the same predicate), beside it or under
--output-dir. -j/--jobs, --fail-fast, --skip-existing (outputs that exist are kept), --json: as sign-blob.`;

/** `attest-blob` with many inputs: the same predicate, one statement and bundle per file. */
export async function runAttestBlobBatch(context: CommandContext): Promise<CommandResult> {
  const command = 'attest-blob';
  const flags = parseFlags(command, context.argv, ATTEST_BLOB_BATCH_FLAGS, {
    min: 0,
    max: Number.POSITIVE_INFINITY,
    names: 'files',
  });
  refuseUnbatchableSigningFlags(command, flags);
  const predicate = stringFlag(flags, 'predicate');
  if (predicate === undefined) throw usageError(command, 'missing --predicate <file>');
  const version = stringFlag(flags, 'statement-version') ?? 'v0.1';
  if (version !== 'v0.1' && version !== 'v1') throw usageError(command, '--statement-version takes v0.1 or v1');
  const key = stringFlag(flags, 'key') ?? context.config.defaultKey;
  if (key === undefined) throw usageError(command, 'no key: pass --key <ref>');
  const outputDir = stringFlag(flags, 'output-dir');
  const files = await batchFiles(command, 'attest', flags, context);
  const inputs: AttestManyInput[] = files.map((file) => ({
    file,
    bundle: outputPathFor(file, ATTESTATION_SUFFIX, outputDir, context.cwd),
  }));
  const attester = createAttester(roleOptions(context));
  const jobs = jobsFlag(command, flags);
  const type = stringFlag(flags, 'type');
  const result = await runBatch(
    context,
    { done: 'attested', command },
    inputs.length,
    attester.attestMany(inputs, {
      key,
      predicate,
      statementVersion: version,
      ...(type !== undefined ? { type } : {}),
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
            fields: { bundle: item.input.bundle, ...(item.result ? { predicateType: item.result.predicateType } : {}) },
          },
  );
  return { ...result, data: { ...(result.data as object), key: redactKeyRef(key) } };
}
