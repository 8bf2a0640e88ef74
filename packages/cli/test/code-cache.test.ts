import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASES, FIXTURES, ROOT_FILES } from '../../sigstore/test/helpers.js';
import { PASSWORD, cosignkit, expectOk, tempHome } from './helpers.js';

// sign-blob and verify-blob run from bundles of their own with a V8 code cache made after a successful run
// (core's src/shared/code-cached-bundle.ts). It holds code the CLI will run, so it must live where only the user can
// write, be made only from the very bundle it is used with, and never be half-written.
const home = tempHome();
const dir = home.dir;
const env = { COSIGN_PASSWORD: PASSWORD, XDG_CACHE_HOME: join(dir, 'cache') };
const cacheDir = join(dir, 'cache', 'cosignkit', 'code-cache');
const verify = ['verify-blob', '--engine', 'native', '--key', 'cosign.pub', '--signature', 'file.sig', 'file.txt'];

function cacheFile(): string {
  const files = readdirSync(cacheDir).filter((name) => name.startsWith('verify-blob-main.cjs.'));
  expect(files).toHaveLength(1);
  return join(cacheDir, files[0]!);
}

beforeAll(async () => {
  writeFileSync(join(dir, 'file.txt'), 'the code cache test\n');
  expectOk(await cosignkit(['generate-key-pair'], { cwd: dir, env }));
  expectOk(
    await cosignkit(
      ['sign-blob', '--engine', 'native', '--key', 'cosign.key', '--output-signature', 'file.sig', 'file.txt'],
      {
        cwd: dir,
        env,
      },
    ),
  );
  mkdirSync(join(dir, 'cache'), { recursive: true });
}, 60_000);
afterAll(() => home.cleanup());

describe("the hot commands' code cache", () => {
  it('is written by a successful run, 0600 in a 0700 directory, and then used as it is', async () => {
    expectOk(await cosignkit(verify, { cwd: dir, env }));
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    const path = cacheFile();
    const first = statSync(path);
    expect(first.mode & 0o777).toBe(0o600);
    expect(first.size).toBeGreaterThan(40);

    expectOk(await cosignkit(verify, { cwd: dir, env }));
    const second = statSync(path);
    expect([second.ino, second.mtimeMs]).toEqual([first.ino, first.mtimeMs]);
    expect(readdirSync(cacheDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('is replaced, not used, when it was made from another build of the bundle', async () => {
    const path = cacheFile();
    const good = readFileSync(path);
    // The right V8 data behind another file's identity: a bundle rebuilt with the same length would look so.
    const foreign = Buffer.concat([Buffer.alloc(40, 7), good.subarray(40)]);
    writeFileSync(path, foreign);
    const run = expectOk(await cosignkit(verify, { cwd: dir, env }));
    expect(run.stdout).toBe('Verified OK\n');
    expect(readFileSync(path).subarray(0, 40)).toEqual(good.subarray(0, 40));
  });

  it('is replaced when it is cut short', async () => {
    const path = cacheFile();
    const good = readFileSync(path);
    writeFileSync(path, good.subarray(0, 100));
    expectOk(await cosignkit(verify, { cwd: dir, env }));
    const again = readFileSync(path);
    expect(again.length).toBeGreaterThan(100);
    expect(again.subarray(0, 40)).toEqual(good.subarray(0, 40));
  });

  it('is not written by a run that fails, which makes no cache directory either', async () => {
    const other = { ...env, XDG_CACHE_HOME: join(dir, 'cache-failed') };
    mkdirSync(join(dir, 'cache-failed'));
    writeFileSync(join(dir, 'other.txt'), 'not what was signed\n');
    const run = await cosignkit(verify.slice(0, -1).concat('other.txt'), { cwd: dir, env: other });
    expect(run.code).toBe(2);
    expect(readdirSync(join(dir, 'cache-failed'))).toEqual([]);
  });

  it('is not used when others could have written it, and is then replaced by one of 0600', async () => {
    const path = cacheFile();
    chmodSync(path, 0o622);
    const before = statSync(path);
    expect(expectOk(await cosignkit(verify, { cwd: dir, env })).stdout).toBe('Verified OK\n');
    const after = statSync(path);
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o777).toBe(0o600);
  });

  it('keeps a keyless verify-blob apart: a cache of its half of the bundle, and one of the keyless file', async () => {
    const c = CASES.find((x) => x.bundle === 'bundle_v3_github.whl.sigstore')!;
    const keyless = [
      'verify-blob',
      '--bundle',
      join(FIXTURES, c.bundle),
      '--certificate-identity',
      c.identity,
      '--certificate-oidc-issuer',
      c.issuer,
      '--trusted-root',
      join(FIXTURES, ROOT_FILES[c.root]),
      '--offline',
      join(FIXTURES, c.artifact!),
    ];
    mkdirSync(join(dir, 'cache-keyless'));
    const both = { ...env, XDG_CACHE_HOME: join(dir, 'cache-keyless') };
    expectOk(await cosignkit(keyless, { cwd: dir, env: both }));
    expectOk(await cosignkit(verify, { cwd: dir, env: both }));
    const kept = join(dir, 'cache-keyless', 'cosignkit', 'code-cache');
    const names = readdirSync(kept).sort();
    expect(names.map((name) => name.replace(/\.v\d+\.\d+\.\d+-\w+$/, '')).sort()).toEqual([
      'keyless-verification.cjs',
      'verify-blob-main.cjs',
      'verify-blob-main.cjs.keyless',
    ]);
    const before = names.map((name) => statSync(join(kept, name)));
    expect(expectOk(await cosignkit(keyless, { cwd: dir, env: both })).stdout).toBe('Verified OK\n');
    expectOk(await cosignkit(verify, { cwd: dir, env: both }));
    // Used as they are: a cache V8 rejected (or one made from another file) would have been rewritten.
    const after = names.map((name) => statSync(join(kept, name)));
    expect(after.map((s) => [s.ino, s.mtimeMs])).toEqual(before.map((s) => [s.ino, s.mtimeMs]));
  });

  it('stays off in a cache directory others can write to', async () => {
    const shared = join(dir, 'cache-shared', 'cosignkit', 'code-cache');
    mkdirSync(shared, { recursive: true });
    chmodSync(shared, 0o777);
    expectOk(await cosignkit(verify, { cwd: dir, env: { ...env, XDG_CACHE_HOME: join(dir, 'cache-shared') } }));
    expect(readdirSync(shared)).toEqual([]);
  });

  it('stays off with NODE_DISABLE_COMPILE_CACHE', async () => {
    mkdirSync(join(dir, 'cache-off'));
    expectOk(
      await cosignkit(verify, {
        cwd: dir,
        env: { ...env, XDG_CACHE_HOME: join(dir, 'cache-off'), NODE_DISABLE_COMPILE_CACHE: '1' },
      }),
    );
    expect(existsSync(join(dir, 'cache-off', 'cosignkit', 'code-cache'))).toBe(false);
  });
});
