import { listDir, lstatPath, unlinkPath } from '../files/fs-calls.js';
import { basename, dirname, join } from 'node:path';

/**
 * Temp files of core's atomic writer are `.<name>.<pid>.<12 hex>.tmp` beside the output. A writer killed with
 * SIGKILL (or a power cut) leaves its temp behind; the next write into the same directory removes it, but only
 * when it is certainly stale: our exact pattern, a regular file (a symbolic link is never followed nor
 * removed), owned by this user, untouched for STALE_TEMP_AGE_MS, and its writer's pid no longer alive.
 */
export const TEMP_NAME = /^\.(.+)\.(\d{1,10})\.([0-9a-f]{12})\.(tmp|pair)$/;

/** A temp lives milliseconds (cosign may write one during a keyless sign: minutes); an hour is plainly dead. */
export const STALE_TEMP_AGE_MS = 60 * 60 * 1000;

export interface StaleTempOptions {
  /** Minimum age (mtime) of a temp that may be removed; default STALE_TEMP_AGE_MS. */
  olderThanMs?: number;
  /** Which kind of temp to remove: `tmp` (the default) or key-file's `pair` journal. */
  suffix?: 'tmp' | 'pair';
  now?: number;
}

/** Directories already cleaned by this process: one scan per directory, not one per output of a batch. */
const cleaned = new Set<string>();

/** Removes stale temps beside `path` once per process and directory; never throws (it is housekeeping). */
export async function removeStaleTempsOnce(path: string): Promise<void> {
  const dir = dirname(path);
  if (cleaned.has(dir)) return;
  cleaned.add(dir);
  await removeStaleTemps(dir).catch(() => undefined);
}

/** The stale temps of `dir` (see TEMP_NAME), removed; returns their names. */
export async function removeStaleTemps(dir: string, options: StaleTempOptions = {}): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await staleTemps(dir, options)) {
    try {
      // unlink never follows a link: even a file swapped for a symlink since the check only loses its name.
      await unlinkPath(join(dir, name));
      removed.push(name);
    } catch {
      // Gone already (another run cleaned it), or not ours to remove: either way, nothing to do.
    }
  }
  return removed;
}

/** Names of the temps in `dir` that are certainly stale (see TEMP_NAME). */
export async function staleTemps(dir: string, options: StaleTempOptions = {}): Promise<string[]> {
  const suffix = options.suffix ?? 'tmp';
  const minAge = options.olderThanMs ?? STALE_TEMP_AGE_MS;
  const now = options.now ?? Date.now();
  let names: string[];
  try {
    names = await listDir(dir);
  } catch {
    return [];
  }
  const stale: string[] = [];
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (!match || match[4] !== suffix) continue;
    const info = await lstatPath(join(dir, name)).catch(() => undefined);
    if (!info?.isFile()) continue;
    if (typeof process.getuid === 'function' && info.uid !== process.getuid()) continue;
    if (now - info.mtimeMs < minAge) continue;
    if (isAlive(Number(match[2]))) continue;
    stale.push(name);
  }
  return stale;
}

/** The output a temp name belongs to (`.<name>.<pid>.<hex>.tmp` → `<name>`), or undefined. */
export function targetOfTemp(tempName: string): string | undefined {
  return TEMP_NAME.exec(basename(tempName))?.[1];
}

/** True when a process with this pid exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's process.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
