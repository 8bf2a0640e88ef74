import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CosignkitError } from '@cosignkit/core';

export async function allRegularFiles(paths: readonly string[]): Promise<boolean> {
  const infos = await Promise.all(paths.map((p) => stat(p).catch(() => undefined)));
  return infos.every((i) => i?.isFile() === true);
}

/**
 * Output directories (under --output-dir) are created as needed; `made` (one per batch) remembers those
 * already there, so a thousand files in one directory cost one mkdir, not a thousand.
 */
export async function ensureDirectories(outputs: readonly string[], made: Set<string> = new Set()): Promise<void> {
  for (const dir of new Set(outputs.map((o) => dirname(o)))) {
    if (made.has(dir)) continue;
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw new CosignkitError('IO', `cannot create ${dir}: ${(error as Error).message}`, { cause: error });
    });
    made.add(dir);
  }
}
