import type {
  AttestBlobResult,
  AttestManyInput,
  AttestManyOptions,
  Attester,
  BatchInputs,
  BatchItemResult,
} from '@cosignkit/core';
import { allRegularFiles, ensureDirectories } from './output-files.js';
import { runPool } from './run-pool.js';

/**
 * Attests many files, `jobs` at a time, each through the one-file path. `openKey` runs first, once, so a
 * wrong key or password fails the batch before any item rather than once per item.
 */
export async function* attestMany(
  attester: Pick<Attester, 'attestBlobLocal'>,
  openKey: () => Promise<void>,
  inputs: BatchInputs<AttestManyInput>,
  o: AttestManyOptions,
): AsyncGenerator<BatchItemResult<AttestManyInput, AttestBlobResult>> {
  await openKey();
  const directories = new Set<string>();
  yield* runPool<AttestManyInput, AttestBlobResult>(inputs, o, async (input) => {
    const outputs = [input.outputFile, input.bundle].filter((p): p is string => p !== undefined);
    // An attestation is not checked here, only found: a complete file exists only if it was written whole.
    if (o.skipExisting && outputs.length > 0 && (await allRegularFiles(outputs))) return { status: 'skipped' };
    await ensureDirectories(outputs, directories);
    const result = await attester.attestBlobLocal(input.file, {
      predicate: o.predicate,
      ...(o.key !== undefined ? { key: o.key } : {}),
      ...(o.type !== undefined ? { type: o.type } : {}),
      ...(o.statementVersion !== undefined ? { statementVersion: o.statementVersion } : {}),
      ...(input.outputFile !== undefined ? { outputFile: input.outputFile } : {}),
      ...(input.bundle !== undefined ? { bundle: input.bundle } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    return { status: 'ok', result };
  });
}
