import { mkdir as makeDir, stat as statPath } from 'node:fs';
import { promisify } from 'node:util';
import { dirname } from 'node:path';
import { CosignkitError, removeStaleTempsOnce } from '@cosignkit/core';

// node:fs's callback API, not node:fs/promises: loading that (readline, the watchers) costs a batch's start.
const mkdir = promisify(makeDir);
const stat = promisify(statPath);

export async function allRegularFiles(paths: readonly string[]): Promise<boolean> {
  const infos = await Promise.all(paths.map((p) => stat(p).catch(() => undefined)));
  return infos.every((i) => i?.isFile() === true);
}

/**
 * Output directories (under --output-dir) are created as needed, and a killed run's stale temps in them
 * removed; `made` (one per batch) remembers those already done, so a thousand files in one directory cost
 * one mkdir and one scan, not a thousand.
 */
export async function ensureDirectories(outputs: readonly string[], made: Set<string> = new Set()): Promise<void> {
  for (const output of outputs) {
    const dir = dirname(output);
    if (made.has(dir)) continue;
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw new CosignkitError('IO', `cannot create ${dir}: ${(error as Error).message}`, { cause: error });
    });
    await removeStaleTempsOnce(output);
    made.add(dir);
  }
}
