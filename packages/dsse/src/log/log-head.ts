import { open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CosignkitError, fileError, removeStaleTempsOnce, tempPathFor } from '@cosignkit/core';

/**
 * The log's head: the seq and hash of its last acknowledged entry, in `<log>.head`. A hash chain alone
 * cannot show that its last lines were cut off; the head can (unless it is cut too: keep a copy elsewhere,
 * or publish the head that verify-log prints, for a stronger anchor).
 */
export interface LogHead {
  seq: number;
  hash: string;
}

export function headPath(logPath: string): string {
  return `${logPath}.head`;
}

/** Writes the head atomically (temp file, fsync, rename, fsync of the directory). */
export async function writeHead(logPath: string, head: LogHead): Promise<void> {
  const target = headPath(logPath);
  // core's temp naming: a head write killed mid-way leaves a temp that a later run recognises and removes.
  await removeStaleTempsOnce(target);
  const temp = tempPathFor(target);
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(`${JSON.stringify({ seq: head.seq, hash: head.hash })}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    await syncDirectory(dirname(target));
  } catch (error) {
    await rm(temp, { force: true });
    throw fileError(target, error);
  }
}

/** The head, or undefined when there is none. A damaged head file is reported, not ignored. */
export async function readHead(logPath: string): Promise<LogHead | undefined> {
  let text: string;
  try {
    text = await readFile(headPath(logPath), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fileError(headPath(logPath), error);
  }
  try {
    const value = JSON.parse(text) as Partial<LogHead>;
    if (Number.isSafeInteger(value.seq) && typeof value.hash === 'string' && /^[0-9a-f]{64}$/.test(value.hash)) {
      return { seq: value.seq!, hash: value.hash };
    }
  } catch {
    // fall through
  }
  throw new CosignkitError('VERIFICATION_FAILED', `${headPath(logPath)} is damaged`);
}

export async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
