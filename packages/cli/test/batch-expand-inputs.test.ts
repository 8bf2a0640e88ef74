import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandInputs } from '../src/batch/expand-inputs.js';

const cwd = mkdtempSync(join(tmpdir(), 'cosignkit-expand-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const expand = (positionals: string[], at = cwd): Promise<string[]> =>
  expandInputs({ positionals, recursive: true, readStdin: async () => '', cwd: at });

describe('expandInputs: directories with --recursive', () => {
  mkdirSync(join(cwd, 'd', 'sub', 'deep'), { recursive: true });
  for (const f of ['b.bin', 'a.bin', 'a.bin.sigstore.json', 'a.bin.sig', '.a.bin.sigstore.json.123.0123456789ab.tmp'])
    writeFileSync(join(cwd, 'd', f), f);
  writeFileSync(join(cwd, 'd', 'sub', 'c.bin'), 'c');
  writeFileSync(join(cwd, 'd', 'sub', 'deep', 'e.bin'), 'e');
  symlinkSync(join(cwd, 'd', 'a.bin'), join(cwd, 'd', 'link.bin'));

  it('lists regular files under the directory as join(entry, path), sorted, outputs and links left out', async () => {
    const want = ['a.bin', 'b.bin', 'sub/c.bin', 'sub/deep/e.bin'];
    expect(await expand(['d'])).toEqual(want.map((f) => `d/${f}`));
    expect(await expand(['./d/'])).toEqual(want.map((f) => `d/${f}`));
    expect(await expand(['.'], join(cwd, 'd'))).toEqual(want);
    expect(await expand(['..'], join(cwd, 'd', 'sub'))).toEqual(want.map((f) => `../${f}`));
    expect(await expand([join(cwd, 'd')])).toEqual(want.map((f) => join(cwd, 'd', f)));
  });

  it('keeps each file once across a directory and the same file named again', async () => {
    expect(await expand(['d/sub', 'd/sub/c.bin', './d/sub/deep/e.bin', 'd'])).toEqual([
      'd/sub/c.bin',
      'd/sub/deep/e.bin',
      'd/a.bin',
      'd/b.bin',
    ]);
  });
});

describe('expandInputs: --files-from on hostile input', () => {
  const fromList = (filesFrom: string): Promise<string[]> =>
    expandInputs({ positionals: [], filesFrom, recursive: false, readStdin: async () => '', cwd });

  it('reads a list, and refuses a FIFO in its place without waiting for a writer', async () => {
    writeFileSync(join(cwd, 'list.txt'), 'x.bin\r\n\ny.bin\n');
    expect(await fromList(join(cwd, 'list.txt'))).toEqual(['x.bin', 'y.bin']);
    const fifo = join(cwd, 'list.fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(fromList(fifo)).rejects.toMatchObject({ code: 'NOT_A_FILE' });
  });
});
