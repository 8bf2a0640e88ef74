import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CosignkitError } from '@cosignkit/core';

/** Writes a file whole or not at all: a temp file beside it, then a rename. */
export async function writeOutput(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, data, { flag: 'wx', mode });
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CosignkitError('FILE_NOT_FOUND', `cannot write ${path}: no such directory`, { cause: error });
    if (code === 'EISDIR') throw new CosignkitError('NOT_A_FILE', `cannot write ${path}: it is a directory`, { cause: error });
    throw new CosignkitError('IO', `cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
}
