import { readFile } from 'node:fs/promises';
import { fileError } from '@cosignkit/core';
import { cosignStatementPayload } from '@cosignkit/dsse';

/**
 * Reads the predicate and checks it against the type (JSON, the fields a known type requires) before any
 * engine runs: a bad predicate is the same USAGE error on both engines, and cosign is not started for it.
 */
export async function readPredicate(path: string, type: string, version: 'v0.1' | 'v1' = 'v0.1'): Promise<Buffer> {
  const predicate = await readFile(path).catch((error: unknown) => {
    throw fileError(path, error);
  });
  cosignStatementPayload({
    type,
    predicate,
    subjects: [{ name: 'probe', digest: { sha256: '0'.repeat(64) } }],
    version,
  });
  return predicate;
}
