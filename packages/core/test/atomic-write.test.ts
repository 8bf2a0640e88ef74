import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { CosignkitError, type ErrorCode } from '../src/errors.js';
import { writeFileAtomic } from '../src/shared/atomic-write.js';

async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cosignkit-core-atomic-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(CosignkitError.isInstance(error), `not a CosignkitError: ${String(error)}`).toBe(true);
  expect((error as CosignkitError).code, (error as Error).message).toBe(code);
}

/** Temporary files the atomic writer would leave behind if it failed badly. */
async function leftoverTempFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.tmp'));
}

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('writeFileAtomic', () => {
  it('gives the file the requested mode less the umask, as every other output (issue 17)', async () => {
    const previous = process.umask(0o027);
    try {
      await writeFileAtomic(join(dir, 'b.pub'), 'public', { mode: 0o644 });
    } finally {
      process.umask(previous);
    }
    process.umask(0o022);
    try {
      await writeFileAtomic(join(dir, 'a.pub'), 'public', { mode: 0o644 });
      await writeFileAtomic(join(dir, 'a.key'), 'secret', { mode: 0o600 });
    } finally {
      process.umask(previous);
    }
    expect(await modeOf(join(dir, 'b.pub'))).toBe(0o640);
    expect(await modeOf(join(dir, 'a.pub'))).toBe(0o644);
    expect(await modeOf(join(dir, 'a.key'))).toBe(0o600);
    expect(await readFile(join(dir, 'a.key'), 'utf8')).toBe('secret');
    expect(await leftoverTempFiles(dir)).toEqual([]);
  });

  it('refuses to overwrite by default, leaves the old content and no temp file', async () => {
    const path = join(dir, 'k.key');
    await writeFile(path, 'old');
    await rejectsWith(writeFileAtomic(path, 'new', { mode: 0o600 }), 'OUTPUT_EXISTS');
    expect(await readFile(path, 'utf8')).toBe('old');
    expect(await leftoverTempFiles(dir)).toEqual([]);
  });

  it('replaces a file when asked to', async () => {
    const path = join(dir, 'k.key');
    await writeFile(path, 'old');
    await writeFileAtomic(path, 'new', { mode: 0o600, overwrite: true });
    expect(await readFile(path, 'utf8')).toBe('new');
    expect(await leftoverTempFiles(dir)).toEqual([]);
  });

  it('leaves no temp file when the final rename fails', async () => {
    const path = join(dir, 'taken');
    await mkdir(join(path, 'child'), { recursive: true });
    await expect(writeFileAtomic(path, 'x', { mode: 0o600, overwrite: true })).rejects.toMatchObject({
      code: expect.any(String),
    });
    expect(await leftoverTempFiles(dir)).toEqual([]);
  });

  it('fails cleanly in a directory that does not exist', async () => {
    await rejectsWith(writeFileAtomic(join(dir, 'nope', 'k.key'), 'x', { mode: 0o600 }), 'FILE_NOT_FOUND');
  });
});
