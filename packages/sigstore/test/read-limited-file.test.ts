import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLimitedFile } from '../src/io/read-limited-file.js';

describe('readLimitedFile: small files with plain syscalls, large ones on the pool, the same checks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cosignkit-read-limited-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a small and a large regular file whole', async () => {
    const small = join(dir, 'small.json');
    writeFileSync(small, '{"a":1}');
    expect((await readLimitedFile(small, 1024, 'bundle')).toString()).toBe('{"a":1}');
    const large = join(dir, 'large.bin');
    const bytes = Buffer.alloc(3 * 1024 * 1024, 7);
    writeFileSync(large, bytes);
    expect((await readLimitedFile(large, 4 * 1024 * 1024, 'bundle')).equals(bytes)).toBe(true);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    expect((await readLimitedFile(empty, 10, 'bundle')).length).toBe(0);
  });

  it('refuses what is over the limit, before reading, on either path', async () => {
    const file = join(dir, 'eleven');
    writeFileSync(file, 'x'.repeat(11));
    await expect(readLimitedFile(file, 10, 'bundle')).rejects.toMatchObject({
      code: 'BUNDLE_MALFORMED',
      message: `bundle ${file} is 11 bytes, over the 10-byte limit`,
    });
    await expect(readLimitedFile(join(dir, 'large.bin'), 2 * 1024 * 1024, 'bundle')).rejects.toMatchObject({
      code: 'BUNDLE_MALFORMED',
    });
  });

  it('refuses a directory and a FIFO without opening or blocking, and names a missing file', async () => {
    await expect(readLimitedFile(dir, 10, 'trusted root')).rejects.toMatchObject({
      code: 'NOT_A_FILE',
      message: `trusted root ${dir} is not a regular file`,
    });
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(readLimitedFile(fifo, 10, 'bundle')).rejects.toMatchObject({ code: 'NOT_A_FILE' });
    await expect(readLimitedFile(join(dir, 'missing'), 10, 'bundle')).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
    });
  });
});
