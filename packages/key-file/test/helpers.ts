import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CosignkitError, type ErrorCode } from '@cosignkit/core';
import { expect } from 'vitest';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const fixture = (name: string): string => join(FIXTURES, name);

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cosignkit-key-file-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Awaits a promise that must reject with a CosignkitError of `code`; returns the error. */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<CosignkitError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected a CosignkitError ${code}`).toBeDefined();
  expect(CosignkitError.isInstance(error), `not a CosignkitError: ${String(error)}`).toBe(true);
  expect((error as CosignkitError).code, (error as Error).message).toBe(code);
  return error as CosignkitError;
}

/** Temporary files the atomic writer would leave behind if it failed badly. */
export async function leftoverTempFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.tmp'));
}
