import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { fileError } from '../digest.js';
import { CosignkitError } from '../errors.js';

/**
 * Files up to this size are read with plain synchronous calls, larger ones on the thread pool. Each call on
 * the pool is a round trip between threads, five or more per file (open, stat, reads, close): a one-shot
 * verify-blob spent more time on those hand-offs than on its three small files (issue 19). Reading 1 MiB from
 * the page cache blocks the event loop for well under a millisecond, so a server or agent loses nothing.
 */
export const SMALL_FILE_BYTES = 1024 * 1024;

export interface OpenRegularFile {
  fd: number;
  /** The size the open file had when it was checked. */
  size: number;
}

/**
 * Opens `path` for reading and checks the open descriptor, not the path, so nothing can be swapped in between
 * the check and the read. O_NONBLOCK: a FIFO under the name cannot hang the open (regular files ignore the
 * flag); O_NOCTTY: a terminal never becomes ours. `noFollow`: a symbolic link fails (ELOOP) rather than being
 * followed. The descriptor is the caller's to close (closeQuietly).
 */
export function openRegularFile(path: string, options: { noFollow?: boolean } = {}): OpenRegularFile {
  let fd: number;
  try {
    const flags = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;
    fd = openSync(path, options.noFollow ? flags | constants.O_NOFOLLOW : flags);
  } catch (error) {
    throw fileError(path, error);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new CosignkitError('NOT_A_FILE', `${path} is not a regular file`);
    return { fd, size: info.size };
  } catch (error) {
    closeQuietly(fd);
    throw CosignkitError.isInstance(error) ? error : fileError(path, error);
  }
}

/** Reads into `buffer` from `offset` on at the file's current position, synchronously; the bytes read. */
export function readIntoSync(fd: number, buffer: Buffer, offset = 0): number {
  return readSync(fd, buffer, offset, buffer.length - offset, null);
}

/** Closes and forgets any error: the data was read or the failure is already on its way. */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Nothing to do about it.
  }
}
