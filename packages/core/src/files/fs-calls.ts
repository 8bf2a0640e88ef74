import { lstat, read, readdir, unlink, writeFile } from 'node:fs';
import { promisify } from 'node:util';

/**
 * Promise-returning file calls on node:fs's callback API, for the reads and writes every command makes
 * (issue 19): node:fs/promises loads readline, the streams and about forty modules with it, some 5 ms of a
 * one-shot command's start-up, for calls the callback API makes on the same thread pool. Reading a file
 * opens it with plain calls (open-regular-file.ts); this file's readInto reads the large ones.
 */

export const lstatPath = promisify(lstat);
export const listDir = promisify(readdir);
export const unlinkPath = promisify(unlink);
export const writeWholeFile = promisify(writeFile);

/** Reads into `buffer` from `offset` to its end at the file's current position; resolves to the bytes read. */
export function readInto(fd: number, buffer: Buffer, offset = 0): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buffer, offset, buffer.length - offset, null, (error, bytesRead) =>
      error ? reject(error) : resolve(bytesRead),
    ),
  );
}
