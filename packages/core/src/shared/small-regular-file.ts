// By process.getBuiltinModule, as everywhere a bin runs first: ESM facades would cost start-up time.
const { closeSync, constants, fstatSync, openSync, readSync } = process.getBuiltinModule('node:fs');

/**
 * The bytes of a regular file of at most `maxBytes`, or undefined for anything else (no such file, a FIFO, a
 * directory, too large, cut short while read). A bin's inputs that are only a head start (a key file for
 * the early scrypt, a code cache) go through here: the command proper reads and reports them otherwise.
 * Checked on the open descriptor, so nothing can swap the file between the check and the read; O_NONBLOCK so a
 * FIFO under the name cannot hang the open.
 */
export function readSmallRegularFile(path: string, maxBytes: number): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    const info = fstatSync(fd);
    if (!info.isFile() || info.size > maxBytes) return undefined;
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
