import { open } from 'node:fs/promises';
import { CosignkitError, fileError } from '@cosignkit/core';

/**
 * Reads a regular file of at most `limit` bytes. The type and size are checked on the open handle before
 * anything is read, so a FIFO, a device or a huge file is refused without blocking or filling memory.
 */
export async function readLimitedFile(path: string, limit: number, what: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw fileError(path, error);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new CosignkitError('NOT_A_FILE', `${what} ${path} is not a regular file`);
    if (info.size > limit) {
      throw new CosignkitError(
        'BUNDLE_MALFORMED',
        `${what} ${path} is ${info.size} bytes, over the ${limit}-byte limit`,
      );
    }
    return await handle.readFile();
  } catch (error) {
    if (CosignkitError.isInstance(error)) throw error;
    throw fileError(path, error);
  } finally {
    await handle.close();
  }
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
