import { access, close, constants, fstat, lstat, open, read, readdir, rename, stat, unlink, writeFile } from 'node:fs';
import { promisify } from 'node:util';

/**
 * Promise-returning file calls on node:fs's callback API, for the reads and writes every command makes
 * (issue 19): node:fs/promises loads readline, the streams and about forty modules with it, some 5 ms of a
 * one-shot command's start-up, for calls the callback API makes on the same thread pool.
 */

export const accessPath = promisify(access);
export const statPath = promisify(stat);
export const lstatPath = promisify(lstat);
export const statDescriptor = promisify(fstat);
export const listDir = promisify(readdir);
export const renamePath = promisify(rename);
export const unlinkPath = promisify(unlink);
export const writeWholeFile = promisify(writeFile);

const openPath = promisify(open);

/** Opens for reading without following a FIFO into a hang (O_NONBLOCK) or taking a terminal (O_NOCTTY). */
export function openForReading(path: string): Promise<number> {
  return openPath(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
}

/** Reads into `buffer` from `offset` to its end at the file's current position; resolves to the bytes read. */
export function readInto(fd: number, buffer: Buffer, offset = 0): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buffer, offset, buffer.length - offset, null, (error, bytesRead) =>
      error ? reject(error) : resolve(bytesRead),
    ),
  );
}

/** Closes and forgets any error: the data was read or the failure is already on its way. */
export function closeQuietly(fd: number): Promise<void> {
  return new Promise((resolve) => close(fd, () => resolve()));
}
