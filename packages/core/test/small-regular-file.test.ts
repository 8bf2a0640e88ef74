import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSmallRegularFile } from '../src/shared/small-regular-file.js';

// A bin's head-start reads (a key file for the early scrypt, a code cache). A code cache is code the process
// will run: with `ownOnly` it is read only from a file nobody but this user can have written, never through a
// symlink; a key file may be a symlink.
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cosignkit-small-file-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, 'data');
  chmodSync(path, mode);
  return path;
}

describe('readSmallRegularFile', () => {
  it('reads a regular file of at most maxBytes, and nothing larger', () => {
    const path = file('plain', 0o600);
    expect(readSmallRegularFile(path, 4)?.toString()).toBe('data');
    expect(readSmallRegularFile(path, 3)).toBeUndefined();
    expect(readSmallRegularFile(dir, 1024)).toBeUndefined();
  });

  it('with ownOnly, refuses a file group or others can write to', () => {
    expect(readSmallRegularFile(file('own', 0o644), 1024, true)?.toString()).toBe('data');
    expect(readSmallRegularFile(file('group', 0o620), 1024, true)).toBeUndefined();
    expect(readSmallRegularFile(file('others', 0o602), 1024, true)).toBeUndefined();
  });

  it('with ownOnly, refuses a symlink, which it follows otherwise', () => {
    const link = join(dir, 'link');
    symlinkSync(file('target', 0o600), link);
    expect(readSmallRegularFile(link, 1024)?.toString()).toBe('data');
    expect(readSmallRegularFile(link, 1024, true)).toBeUndefined();
  });
});
