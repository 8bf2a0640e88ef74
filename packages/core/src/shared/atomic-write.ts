import { constants } from 'node:fs';
import { link, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileError } from '../digest.js';
import { CosignkitError } from '../errors.js';
import { tempPathFor } from './atomic-output.js';
import { removeStaleTempsOnce } from './stale-temps.js';

export interface AtomicWriteOptions {
  /**
   * The file's mode less the umask, as every output is created (0644 for public files, 0600 for private
   * keys): a user with umask 027 gets 0640 from every command alike.
   */
  mode: number;
  /** Replace an existing file. Default false: an existing file is an OUTPUT_EXISTS error and stays untouched. */
  overwrite?: boolean;
}

/**
 * Writes a file so that readers see either nothing or the whole content: a temporary file in the same
 * directory, created with the final mode, fsynced, then moved into place. Without `overwrite` the move is a
 * hard link, which fails atomically when the target exists (no check-then-rename race).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions,
): Promise<void> {
  const dir = dirname(path);
  // A writer killed mid-way (SIGKILL) left its temp here: removed once it is certainly stale.
  await removeStaleTempsOnce(path);
  const temp = tempPathFor(path);
  let handle;
  try {
    handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, options.mode);
  } catch (error) {
    throw fileError(dir, error);
  }
  let placed = false;
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.overwrite) await rename(temp, path);
    else await placeWithoutOverwrite(temp, path);
    placed = true;
    await syncDirectory(dir);
  } catch (error) {
    throw CosignkitError.isInstance(error) ? error : fileError(path, error);
  } finally {
    if (!placed || !options.overwrite) await unlink(temp).catch(() => undefined);
  }
}

/** Moves `temp` to `path` unless `path` exists (OUTPUT_EXISTS): a hard link, which fails atomically. */
export async function placeWithoutOverwrite(temp: string, path: string): Promise<void> {
  try {
    await link(temp, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new CosignkitError('OUTPUT_EXISTS', `${path} already exists`, { cause: error });
    // Some file systems have no hard links: fall back to a check, then a rename (a small race, never a partial file).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    if (await exists(path)) throw new CosignkitError('OUTPUT_EXISTS', `${path} already exists`, { cause: error });
    await rename(temp, path);
  }
}

/** fsyncs a directory so that a new entry in it is durable, where the platform allows it. */
export async function syncDirectory(dir: string): Promise<void> {
  // Makes the new directory entry durable; not possible on every platform, and the data is already synced.
  const handle = await open(dir, constants.O_RDONLY).catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // fsync on a directory handle fails on some file systems; nothing to undo.
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
