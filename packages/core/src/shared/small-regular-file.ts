// By process.getBuiltinModule, as everywhere a bin runs first: ESM facades would cost start-up time.
const { closeSync, constants, fstatSync, openSync, readSync } = process.getBuiltinModule('node:fs');

/**
 * The bytes of a regular file of at most `maxBytes`, or undefined for anything else (no such file, a FIFO, a
 * directory, too large, cut short while read). A bin's inputs that are only a head start (a key file for
 * the early scrypt, a code cache) go through here: the command proper reads and reports them otherwise.
 * Checked on the open descriptor, so nothing can swap the file between the check and the read; O_NONBLOCK so a
 * FIFO under the name cannot hang the open. With `ownOnly`, only a file no one but this user can have written
 * (a code cache: code this process will run).
 */
export function readSmallRegularFile(path: string, maxBytes: number, ownOnly = false): Buffer | undefined {
  let fd: number | undefined;
  try {
    // A cache is never a symlink (its writer renames a file of its own over it); a key file may be one.
    const noFollow = ownOnly ? (constants.O_NOFOLLOW ?? 0) : 0;
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | noFollow);
    const info = fstatSync(fd);
    if (!info.isFile() || info.size > maxBytes || (ownOnly && !writtenByThisUserAlone(info))) return undefined;
    const data = Buffer.allocUnsafe(info.size);
    let length = 0;
    while (length < data.length) {
      const read = readSync(fd, data, length, data.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return length === data.length ? data : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Owned by this user, with no group or other write bit. Nobody else can have written such a file: a hard link
 * planted under the name is to a file of this user's own, which the caller's own check of the content refuses.
 */
function writtenByThisUserAlone(info: import('node:fs').Stats): boolean {
  if (typeof process.getuid !== 'function') return true; // Windows: the user's profile directory.
  return info.uid === process.getuid() && (info.mode & 0o022) === 0;
}
