import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { CosignkitError, fileError } from '@cosignkit/core';

/**
 * Files up to this size are read with plain syscalls on the calling thread: a bundle, a trusted root, a
 * signing config or a token file is a few KiB, and each asynchronous call (open, stat, read, close) costs a
 * thread-pool round trip and a promise, four per file, for well under a millisecond of blocking here (the
 * same bound as the batch signer's small-file reads). Larger files go through the pool as before.
 */
const SYNC_READ_LIMIT = 1024 * 1024;

/**
 * Reads a regular file of at most `limit` bytes. The type and size are checked before anything is read, so a
 * FIFO, a device or a huge file is refused without blocking or filling memory: a small file's path is stat'ed
 * before it is opened (a FIFO is never opened), then opened without blocking and checked again on the open
 * descriptor (a file swapped in between is caught); a larger one is checked on its open handle.
 */
export async function readLimitedFile(path: string, limit: number, what: string): Promise<Buffer> {
  let size: number;
  try {
    const info = statSync(path);
    size = info.isFile() ? info.size : -1;
  } catch (error) {
    throw fileError(path, error);
  }
  if (size === -1) throw notAFile(path, what);
  if (size > limit) throw tooLarge(path, what, size, limit);
  return size <= SYNC_READ_LIMIT ? readSmall(path, limit, what) : readOnPool(path, limit, what);
}

function readSmall(path: string, limit: number, what: string): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO swapped in after the stat cannot hang the open; regular files ignore the flag.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw fileError(path, error);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw notAFile(path, what);
    if (info.size > limit) throw tooLarge(path, what, info.size, limit);
    // Up to one byte past the size the open file had: a file grown past the limit since is refused.
    const buffer = Buffer.allocUnsafe(Math.min(info.size + 1, limit + 1));
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, length);
      if (n === 0) break;
      length += n;
    }
    if (length > limit) throw tooLarge(path, what, length, limit);
    return buffer.subarray(0, length);
  } catch (error) {
    if (CosignkitError.isInstance(error)) throw error;
    throw fileError(path, error);
  } finally {
    closeSync(fd);
  }
}

async function readOnPool(path: string, limit: number, what: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw fileError(path, error);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw notAFile(path, what);
    if (info.size > limit) throw tooLarge(path, what, info.size, limit);
    return await handle.readFile();
  } catch (error) {
    if (CosignkitError.isInstance(error)) throw error;
    throw fileError(path, error);
  } finally {
    await handle.close();
  }
}

function notAFile(path: string, what: string): CosignkitError {
  return new CosignkitError('NOT_A_FILE', `${what} ${path} is not a regular file`);
}

function tooLarge(path: string, what: string, size: number, limit: number): CosignkitError {
  return new CosignkitError('BUNDLE_MALFORMED', `${what} ${path} is ${size} bytes, over the ${limit}-byte limit`);
}

/** Parses JSON text, mapping a syntax error to one line with the given code. */
export function parseJsonText(
  text: Buffer | string,
  what: string,
  code: 'BUNDLE_MALFORMED' = 'BUNDLE_MALFORMED',
): unknown {
  try {
    return JSON.parse(text.toString());
  } catch (error) {
    throw new CosignkitError(code, `${what}: not valid JSON (${(error as Error).message.split('\n')[0]})`, {
      cause: error,
    });
  }
}
