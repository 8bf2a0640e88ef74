import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { CosignkitError } from './errors.js';
import { throwIfAborted } from './shared/abort.js';
import { readInto } from './files/fs-calls.js';
import { closeQuietly, openRegularFile, readIntoSync, SMALL_FILE_BYTES } from './files/open-regular-file.js';
import type { HashAlgorithm } from './keys/algorithms.js';

/**
 * Two 4 MiB buffers, reused: the next read runs in the thread pool while the current chunk is hashed, and
 * nothing is allocated per chunk. Measured on 1 GiB: 0.8× `openssl dgst -sha256` time at ~60 MiB RSS, where
 * a 1 MiB read stream took 1.4× and 186 MiB.
 */
const CHUNK = 4 * 1024 * 1024;

/** Consumes a chunk synchronously (the buffer is reused as soon as update returns): hashes, verifiers. */
export interface ChunkSink {
  update(chunk: Buffer): unknown;
}

/**
 * Reads the file once, in order, feeding every chunk to every sink. Never holds the whole file. The file is
 * checked on its open descriptor (a regular file), so nothing can be swapped in between a check and the read.
 */
export async function streamFileTo(path: string, sinks: readonly ChunkSink[], signal?: AbortSignal): Promise<void> {
  const whole = await smallFileOrStream(path, () => sinks, signal);
  if (whole !== undefined) for (const sink of sinks) sink.update(whole);
}

/**
 * Reads the file once, as streamFileTo does: a small one (under SMALL_FILE_BYTES, read in one buffer of its
 * size either way) is returned whole; a larger one is fed to the sinks `large` makes, and the result is
 * undefined. A caller with a one-shot call for data in hand (node:crypto's hash() and verify()) then builds
 * no stream objects for the files most runs see: their first construction costs a one-shot verify-blob
 * 1.5 ms (issue 19). One open, checked on its descriptor, whichever way the file goes.
 */
export async function smallFileOrStream(
  path: string,
  large: () => readonly ChunkSink[],
  signal?: AbortSignal,
): Promise<Buffer | undefined> {
  const { fd, size } = openRegularFile(path);
  try {
    if (size < SMALL_FILE_BYTES) {
      // One buffer a byte larger than the file, read with plain calls (SMALL_FILE_BYTES): one read, then the
      // one that says end of file. A batch of thousands of small files should not allocate 8 MiB each either.
      const buffer = Buffer.allocUnsafe(size + 1);
      let length = 0;
      while (length < buffer.length) {
        const bytesRead = readIntoSync(fd, buffer, length);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
      throwIfAborted(signal);
      if (length <= size) return buffer.subarray(0, length);
      // It grew after it was checked: what follows is streamed through the same buffer.
      const sinks = large();
      for (
        let chunk = buffer.subarray(0, length);
        chunk.length > 0;
        chunk = buffer.subarray(0, readIntoSync(fd, buffer))
      ) {
        for (const sink of sinks) sink.update(chunk);
      }
      throwIfAborted(signal);
      return undefined;
    }
    const sinks = large();
    // On the thread pool: one buffer of the file's size when it fits in one chunk, else two, the next read
    // running while the current chunk is hashed.
    const buffers =
      size < CHUNK ? [Buffer.allocUnsafe(size + 1)] : [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    let current = 0;
    let pending = readInto(fd, buffers[0]!);
    for (;;) {
      const bytesRead = await pending;
      throwIfAborted(signal);
      if (bytesRead === 0) break;
      const chunk = buffers[current]!.subarray(0, bytesRead);
      if (buffers.length === 1) {
        for (const sink of sinks) sink.update(chunk);
        pending = readInto(fd, buffers[0]!);
        continue;
      }
      current ^= 1;
      pending = readInto(fd, buffers[current]!);
      for (const sink of sinks) sink.update(chunk);
    }
    return undefined;
  } catch (error) {
    if (CosignkitError.isInstance(error)) throw error;
    throw fileError(path, error);
  } finally {
    closeQuietly(fd);
  }
}

/** Digests a file by streaming it. Clear errors for a missing file or a directory. */
export async function digestFile(
  path: string,
  algorithm: HashAlgorithm = 'sha256',
  options: { signal?: AbortSignal } = {},
): Promise<Buffer> {
  const hash = createHash(algorithm);
  await streamFileTo(path, [hash], options.signal);
  return hash.digest();
}

/** Digests several algorithms in one pass over the file. */
export async function digestFileMulti<A extends HashAlgorithm>(
  path: string,
  algorithms: readonly A[],
): Promise<Record<A, Buffer>> {
  const hashes = algorithms.map((a) => createHash(a));
  await streamFileTo(path, hashes);
  return Object.fromEntries(algorithms.map((a, i) => [a, hashes[i]!.digest()])) as Record<A, Buffer>;
}

/** An early, clear error for a missing file or a directory; the read itself checks the open file again. */
export async function assertReadableFile(path: string): Promise<void> {
  let info;
  try {
    // A plain stat, not one on the thread pool: a round trip there costs more than the call (open-regular-file.ts).
    info = statSync(path);
  } catch (error) {
    throw fileError(path, error);
  }
  if (!info.isFile()) throw new CosignkitError('NOT_A_FILE', `${path} is not a regular file`);
}

/** Maps a file-system error to a clear CosignkitError. */
export function fileError(path: string, error: unknown): CosignkitError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new CosignkitError('FILE_NOT_FOUND', `${path}: no such file`, { cause: error });
  if (code === 'EISDIR') return new CosignkitError('NOT_A_FILE', `${path} is a directory`, { cause: error });
  if (code === 'EACCES' || code === 'EPERM') {
    return new CosignkitError('IO', `${path}: permission denied`, { cause: error });
  }
  return new CosignkitError('IO', `${path}: ${(error as Error).message}`, { cause: error });
}
