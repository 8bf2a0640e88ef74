import { randomBytes } from 'node:crypto';
import { sep } from 'node:path';

/** 2^48: the 12 hex digits of a temp name. */
const SPACE = 2 ** 48;

/**
 * Temp paths in core's format (`.<name>.<pid>.<12 hex>.tmp` beside the output, see tempPathFor), for a
 * batch: the 12 hex digits start at a random number and count up, so a batch of 10,000 files does not pay a
 * call into OpenSSL's random generator per file (measured ~5 µs each, and a getpid). The temps are created
 * O_EXCL, so uniqueness is checked by the kernel anyway: the count only makes a clash unlikely, as the random
 * draw did. Stale-temp cleanup reads the same pattern, so a killed batch's temps are removed as before.
 */
export function createTempNamer(): (path: string) => string {
  let next = randomBytes(6).readUIntBE(0, 6);
  const pid = process.pid;
  return (path) => {
    const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf(sep));
    const hex = next.toString(16).padStart(12, '0');
    next = (next + 1) % SPACE;
    return `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.${pid}.${hex}.tmp`;
  };
}
