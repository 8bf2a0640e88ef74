import { constants } from 'node:fs';
import { lstat, open, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  CosignkitError,
  fileError,
  placeWithoutOverwrite,
  removeStaleTemps,
  staleTemps,
  syncDirectory,
  targetOfTemp,
  tempPathFor,
} from '@cosignkit/core';
import { KEY_EXTENSION, PUBLIC_EXTENSION } from './key-paths.js';

/**
 * A `.pair` journal older than this whose writer is gone marks an interrupted pair write. The window it
 * covers (between two hard links) lasts microseconds; the age only guards against a live writer whose pid
 * this process cannot see (another pid namespace sharing the directory).
 */
export const PAIR_JOURNAL_AGE_MS = 60_000;

/**
 * Writes a key pair so that both files or neither exist, even if the process is killed at any point:
 *
 * 1. the private key goes to a `.tmp` temp and the public key to a `.pair` temp, both fsynced;
 * 2. the `.pub` is hard-linked from the `.pair` temp, then the `.key` from its temp (each link fails
 *    atomically if the name exists: nothing is overwritten, and a `.pub` we did not create is never removed);
 * 3. the temps are removed, the `.pair` last.
 *
 * Killed before step 2 ends, the only visible file can be a `.pub` without its `.key`, and then its `.pair`
 * twin (same inode) is still there: recoverInterruptedPairs, run before every pair write, removes such a
 * `.pub` once its writer is dead. A private key never exists without its public key.
 */
export async function writeKeyPair(keyPath: string, keyPem: string, pubPath: string, pubPem: string): Promise<void> {
  await recoverInterruptedPairs(dirname(keyPath));
  const keyTemp = tempPathFor(keyPath);
  const journal = tempPathFor(pubPath, 'pair');
  try {
    await writeSynced(keyTemp, keyPem, 0o600);
    await writeSynced(journal, pubPem, 0o644);
    await linkNew(journal, pubPath);
    try {
      await linkNew(keyTemp, keyPath);
    } catch (error) {
      // The `.pub` is ours (its link just succeeded): without the `.key` it must not stay.
      await unlink(pubPath).catch(() => undefined);
      throw error;
    }
    await syncDirectory(dirname(keyPath));
  } finally {
    await unlink(keyTemp).catch(() => undefined);
    await unlink(journal).catch(() => undefined);
  }
}

/**
 * Removes what a killed pair write left in `dir`: a `.pub` still twinned with a stale `.pair` journal while
 * its `.key` does not exist, the journal itself, and stale key temps. Never follows a symbolic link, never
 * touches a file whose writer may be alive; errors are ignored (housekeeping must not block a write).
 */
export async function recoverInterruptedPairs(dir: string, options: { olderThanMs?: number } = {}): Promise<string[]> {
  const removed: string[] = [];
  try {
    const journals = await staleTemps(dir, { suffix: 'pair', olderThanMs: options.olderThanMs ?? PAIR_JOURNAL_AGE_MS });
    for (const name of journals) {
      const target = targetOfTemp(name);
      if (!target?.endsWith(PUBLIC_EXTENSION)) continue;
      const pubPath = join(dir, target);
      const keyPath = `${pubPath.slice(0, -PUBLIC_EXTENSION.length)}${KEY_EXTENSION}`;
      const [journal, pub, key] = await Promise.all([
        lstat(join(dir, name)).catch(() => undefined),
        lstat(pubPath).catch(() => undefined),
        lstat(keyPath).catch(() => undefined),
      ]);
      if (journal && pub?.isFile() && !key && pub.ino === journal.ino && pub.dev === journal.dev) {
        await unlink(pubPath).then(
          () => removed.push(target),
          () => undefined,
        );
      }
      await unlink(join(dir, name)).then(
        () => removed.push(name),
        () => undefined,
      );
    }
    removed.push(...(await removeStaleTemps(dir, options)));
  } catch {
    // Housekeeping only.
  }
  return removed;
}

async function writeSynced(path: string, data: string, mode: number): Promise<void> {
  let handle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  } catch (error) {
    throw fileError(dirname(path), error);
  }
  try {
    // A private key is exactly 0600 whatever the umask; a public key is created as every public output is,
    // 0644 less the umask (open() applied it).
    if (mode === 0o600) await handle.chmod(mode);
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    throw fileError(path, error);
  } finally {
    await handle.close();
  }
}

/** A hard link that fails atomically if `to` exists: nothing is overwritten. */
async function linkNew(from: string, to: string): Promise<void> {
  try {
    await placeWithoutOverwrite(from, to);
  } catch (error) {
    if (CosignkitError.isInstance(error) && error.code === 'OUTPUT_EXISTS')
      throw new CosignkitError('KEY_EXISTS', `${to} already exists; refusing to overwrite it`);
    throw CosignkitError.isInstance(error) ? error : fileError(to, error);
  }
}
