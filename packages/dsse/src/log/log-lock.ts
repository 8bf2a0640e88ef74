import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { CosignkitError, fileError } from '@cosignkit/core';

export interface LockOptions {
  /** Give up after this long (default 30 s): TIMEOUT. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A lock whose holder wrote nothing for this long crashed between create and write. */
const UNWRITTEN_STALE_MS = 10_000;

// Holders in this process queue here first, so they do not poll the lock file against each other.
const local = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` holding an exclusive lock on `target`: a `<target>.lock` file created with O_EXCL that names the
 * holder (pid, host). A lock whose holder process is gone (same host) is stale and is broken, under a second
 * O_EXCL file so that two waiters cannot both break it and then both hold it.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const target = resolve(path);
  const previous = local.get(target) ?? Promise.resolve();
  const run = previous
    .catch(() => undefined)
    .then(async () => {
      const release = await acquire(target, options);
      try {
        return await fn();
      } finally {
        await release();
      }
    });
  local.set(target, run);
  try {
    return await run;
  } finally {
    if (local.get(target) === run) local.delete(target);
  }
}

async function acquire(target: string, options: LockOptions): Promise<() => Promise<void>> {
  const lockPath = `${target}.lock`;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const me = JSON.stringify({ pid: process.pid, host: hostname(), time: new Date().toISOString() });
  let wait = 1;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      try {
        await handle.writeFile(me);
      } finally {
        await handle.close();
      }
      return async () => {
        await rm(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError(lockPath, error);
    }
    if (await isStale(lockPath)) {
      await breakStaleLock(lockPath);
      continue;
    }
    if (Date.now() > deadline) {
      throw new CosignkitError('TIMEOUT', `timed out waiting for the lock ${lockPath} (held by another writer)`);
    }
    await new Promise((r) => setTimeout(r, wait + Math.random() * wait));
    wait = Math.min(wait * 2, 8);
  }
}

async function isStale(lockPath: string): Promise<boolean> {
  let text: string;
  let mtimeMs: number;
  try {
    [text, { mtimeMs }] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // released meanwhile: just retry
    throw fileError(lockPath, error);
  }
  let holder: { pid?: unknown; host?: unknown };
  try {
    holder = JSON.parse(text) as typeof holder;
  } catch {
    return Date.now() - mtimeMs > UNWRITTEN_STALE_MS;
  }
  if (holder.host !== hostname() || typeof holder.pid !== 'number') return false;
  return !isAlive(holder.pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function breakStaleLock(lockPath: string): Promise<void> {
  const breaker = `${lockPath}.break`;
  let handle;
  try {
    handle = await open(breaker, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError(breaker, error);
    // Someone else is breaking it; a breaker left by a crash is itself stale after a while.
    const info = await stat(breaker).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > UNWRITTEN_STALE_MS) await rm(breaker, { force: true });
    return;
  }
  try {
    await handle.close();
    // Re-check under the breaker: the lock may have been released and re-taken by a live process.
    if (await isStale(lockPath)) await rm(lockPath, { force: true });
  } finally {
    await rm(breaker, { force: true });
  }
}
