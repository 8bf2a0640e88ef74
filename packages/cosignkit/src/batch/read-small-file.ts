import { readSync, statSync } from 'node:fs';
import { CosignkitError, closeQuietly, fileError, openRegularFile, SMALL_FILE_BYTES } from '@cosignkit/core';

// Files up to core's SMALL_FILE_BYTES are read in one synchronous pass by batch work, as core reads them for
// one file. Each asynchronous fs call costs a thread-pool round trip and a promise (measured: 1,000 files of
// 1–64 KiB read in ~175 ms with 8 in flight on the pool, ~80 ms with plain syscalls on the main thread).

/**
 * A buffer for readSmallFileSync's `into`, one per batch: reusing it spares a fresh allocation per file, which
 * for files of a few hundred KiB meant page faults (mmap, munmap) and collector runs driven by external memory.
 */
export function smallFileScratch(limit: number = SMALL_FILE_BYTES): Buffer {
  return Buffer.allocUnsafe(limit);
}

/**
 * The whole content of a regular file of at most `limit` bytes, or undefined when it is larger (the caller
 * streams it). With `into` (smallFileScratch), the result is a view of that buffer: the caller must be done
 * with it before anything else reads into the buffer, that is, before its next `await`. The path is stat'ed
 * before it is opened (a FIFO or a device is refused, never opened), and the open file is checked again, so a
 * file swapped in between is caught.
 */
export function readSmallFileSync(path: string, limit: number = SMALL_FILE_BYTES, into?: Buffer): Buffer | undefined {
  try {
    const info = statSync(path);
    if (!info.isFile()) throw new CosignkitError('NOT_A_FILE', `${path} is not a regular file`);
    if (info.size > limit) return undefined;
  } catch (error) {
    throw CosignkitError.isInstance(error) ? error : fileError(path, error);
  }
  // O_NONBLOCK (core's openRegularFile): a FIFO swapped in after the stat cannot hang the open.
  return readOpened(path, false, limit, into);
}

/**
 * As readSmallFileSync, for a path that must name a regular file itself, not a link to one: opened with
 * O_NOFOLLOW (a symbolic link fails with ELOOP, never followed to a device) instead of stat'ed first, which
 * spares a syscall per file for the quick paths that hand anything unusual to the full verifier anyway. A
 * FIFO opens without blocking and a device node needs root to plant; either is refused on the open file.
 */
export function readSmallRegularFileSync(
  path: string,
  limit: number = SMALL_FILE_BYTES,
  into?: Buffer,
): Buffer | undefined {
  return readOpened(path, true, limit, into);
}

function readOpened(path: string, noFollow: boolean, limit: number, into?: Buffer): Buffer | undefined {
  const { fd, size } = openRegularFile(path, { noFollow });
  try {
    if (size > limit) return undefined;
    // The size the open file had: a file still being appended to is signed as it was then (one read call,
    // not a second one to find the end).
    const buffer = into && into.length >= size ? into.subarray(0, size) : Buffer.allocUnsafe(size);
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, length);
      if (n === 0) break;
      length += n;
    }
    return buffer.subarray(0, length);
  } catch (error) {
    throw CosignkitError.isInstance(error) ? error : fileError(path, error);
  } finally {
    closeQuietly(fd);
  }
}
