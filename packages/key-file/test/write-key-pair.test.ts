import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeKeyPair } from '../src/key-pair-writer.js';
import { leftoverTempFiles, rejectsWith, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('writeKeyPair', () => {
  it('removes the new .key when the .pub cannot be written (nothing half-written)', async () => {
    const keyPath = join(dir, 'r.key');
    const pubPath = join(dir, 'r.pub');
    await writeFile(pubPath, 'someone else');
    await rejectsWith(writeKeyPair(keyPath, 'KEY', pubPath, 'PUB'), 'KEY_EXISTS');
    await expect(stat(keyPath)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(pubPath, 'utf8')).toBe('someone else');
    expect(await leftoverTempFiles(dir)).toEqual([]);
  });
});
