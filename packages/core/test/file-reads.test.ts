import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestFileMulti, readBoundedFile, streamFileTo } from '../src/index.js';

// Issue 19: files under 1 MiB are read with plain calls, larger ones on the thread pool (one buffer up to
// 4 MiB, two beyond). Every size class, and each edge between them, must give the same bytes in the same order.
const MIB = 1024 * 1024;
const SIZES = [0, 1, MIB - 1, MIB, MIB + 1, 4 * MIB - 1, 4 * MIB, 9 * MIB + 5];
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cosignkit-file-reads-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileOf(size: number): { path: string; data: Buffer } {
  const path = join(dir, `f${size}`);
  const data = randomBytes(size);
  writeFileSync(path, data);
  return { path, data };
}

describe('streamFileTo', () => {
  it.each(SIZES)('feeds every byte of a %i-byte file once, in order', async (size) => {
    const { path, data } = fileOf(size);
    const { sha256, sha512 } = await digestFileMulti(path, ['sha256', 'sha512']);
    expect(sha256.toString('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(sha512.toString('hex')).toBe(createHash('sha512').update(data).digest('hex'));
    const seen: Buffer[] = [];
    await streamFileTo(path, [{ update: (chunk: Buffer) => seen.push(Buffer.from(chunk)) }]);
    expect(Buffer.concat(seen).equals(data)).toBe(true);
  });

  it('refuses a FIFO without blocking on it, a directory, and a missing file, each with its code', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(streamFileTo(fifo, [])).rejects.toMatchObject({ code: 'NOT_A_FILE' });
    await expect(streamFileTo(dir, [])).rejects.toMatchObject({ code: 'NOT_A_FILE' });
    await expect(streamFileTo(join(dir, 'nothing'), [])).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });

  it('ends with ABORTED when the signal is aborted, whatever the size', async () => {
    for (const size of [10, 2 * MIB]) {
      const { path } = fileOf(size);
      await expect(streamFileTo(path, [], AbortSignal.abort())).rejects.toMatchObject({ code: 'ABORTED' });
    }
  });
});

describe('readBoundedFile', () => {
  const options = (maxBytes: number) => ({ maxBytes, tooLargeCode: 'BUNDLE_MALFORMED' as const, what: 'a bundle' });

  it.each([0, 100, MIB - 1, MIB, 3 * MIB])('reads a %i-byte file whole', async (size) => {
    const { path, data } = fileOf(size);
    expect((await readBoundedFile(path, options(4 * MIB))).equals(data)).toBe(true);
  });

  it('refuses a file over the limit, small or large, with the code asked for', async () => {
    for (const size of [101, 2 * MIB]) {
      const { path } = fileOf(size);
      await expect(readBoundedFile(path, options(100))).rejects.toMatchObject({ code: 'BUNDLE_MALFORMED' });
    }
  });

  it('refuses a FIFO and a directory as NOT_A_FILE', async () => {
    const fifo = join(dir, 'fifo2');
    execFileSync('mkfifo', [fifo]);
    await expect(readBoundedFile(fifo, options(100))).rejects.toMatchObject({ code: 'NOT_A_FILE' });
    await expect(readBoundedFile(dir, options(100))).rejects.toMatchObject({ code: 'NOT_A_FILE' });
  });
});
