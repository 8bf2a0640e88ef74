import { fileError } from '../digest.js';
import { CosignkitError, type ErrorCode } from '../errors.js';
import { readInto } from './fs-calls.js';
import { closeQuietly, openRegularFile, readIntoSync, SMALL_FILE_BYTES } from './open-regular-file.js';

export interface ReadBoundedFileOptions {
  /** The largest file accepted; a larger one is refused before any byte is read. */
  maxBytes: number;
  /** The code for a file over the limit (the kind of input it should have been: KEY_MALFORMED, BUNDLE_MALFORMED…). */
  tooLargeCode: ErrorCode;
  /** What the file should hold, for the message ("a public key", "a bundle"). */
  what: string;
}

/**
 * Reads a small input file whole, safely: opened without blocking (a FIFO cannot stall us), then checked on
 * the open descriptor (so a swap after the check changes nothing) to be a regular file within the limit, and
 * read no further than the limit even if it grows meanwhile.
 */
export async function readBoundedFile(path: string, options: ReadBoundedFileOptions): Promise<Buffer> {
  const { fd, size } = openRegularFile(path);
  try {
    if (size > options.maxBytes) throw tooLarge(path, options);
    // One byte more than the limit: a file that grew past it since the check is seen, and refused.
    const buffer = Buffer.alloc(Math.min(size, options.maxBytes) + 1);
    // Small files with plain calls, larger ones on the thread pool (open-regular-file.ts).
    const small = size < SMALL_FILE_BYTES;
    let length = 0;
    while (length < buffer.length) {
      const bytesRead = small ? readIntoSync(fd, buffer, length) : await readInto(fd, buffer, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > options.maxBytes) throw tooLarge(path, options);
    return buffer.subarray(0, length);
  } catch (error) {
    throw CosignkitError.isInstance(error) ? error : fileError(path, error);
  } finally {
    closeQuietly(fd);
  }
}

function tooLarge(path: string, options: ReadBoundedFileOptions): CosignkitError {
  return new CosignkitError(
    options.tooLargeCode,
    `${path} is larger than ${options.maxBytes} bytes: not ${options.what}`,
  );
}
