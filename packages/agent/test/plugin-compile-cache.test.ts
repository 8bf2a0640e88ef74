import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The plugin cosign starts keeps V8's code caches (Node's, and its own bundle's: src/bin/sigstore-kms-cosignkit.ts)
// in a directory private to the user, never in Node's shared default under $TMPDIR (where another user could
// plant code it would run), and not in one others can write.
const PLUGIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin', 'sigstore-kms-cosignkit.cjs');
const root = mkdtempSync(join(tmpdir(), 'cosignkit-plugin-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function runPlugin(home: string, cache: string, methodName = 'supportedAlgorithms'): { stdout: string } {
  const request = {
    initOptions: { protocolVersion: 'v1', keyResourceID: 'cosignkit://file:keys/', hashFunc: 5 },
    methodName,
    [methodName]: {},
  };
  const run = spawnSync(process.execPath, [PLUGIN, 'v1', JSON.stringify(request)], {
    cwd: home,
    env: { PATH: process.env.PATH ?? '', HOME: home, XDG_CACHE_HOME: cache, COSIGNKIT_AGENT_AUTOSTART: '0' },
    encoding: 'utf8',
  });
  return { stdout: run.stdout };
}

describe("the plugin's code cache", () => {
  it('lives in $XDG_CACHE_HOME/cosignkit/node-compile-cache, mode 0700, and is filled there', () => {
    const home = join(root, 'private');
    const cache = join(home, '.cache');
    mkdirSync(cache, { recursive: true });
    expect(runPlugin(home, cache).stdout).toContain('supportedAlgorithms');
    const dir = join(cache, 'cosignkit', 'node-compile-cache');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir).length).toBeGreaterThan(0);
  });

  it('keeps the plugin bundle run with a code cache made by a call that answered, used by the next call', () => {
    const home = join(root, 'bundle');
    const cache = join(home, '.cache');
    mkdirSync(cache, { recursive: true });
    const dir = join(cache, 'cosignkit', 'code-cache');
    // A call answered with an error leaves no cache (nor its directory): it would hold less than a call that
    // works compiles.
    expect(runPlugin(home, cache, 'noSuchMethod').stdout).toContain('errorMessage');
    expect(existsSync(dir)).toBe(false);
    expect(runPlugin(home, cache).stdout).toContain('supportedAlgorithms');
    // No agent runs here: the cache of a call that does the work itself.
    const names = readdirSync(dir);
    expect(names.map((name) => name.replace(/\.v\d+\.\d+\.\d+-\w+$/, ''))).toEqual(['plugin-main.cjs.direct']);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const first = statSync(join(dir, names[0]!));
    expect(first.mode & 0o777).toBe(0o600);
    expect(runPlugin(home, cache).stdout).toContain('supportedAlgorithms');
    // Used as it is: a cache V8 rejected (or one made from another file) would have been rewritten.
    const second = statSync(join(dir, names[0]!));
    expect([second.ino, second.mtimeMs]).toEqual([first.ino, first.mtimeMs]);
  });

  it('stays off in a cache directory others can write to', () => {
    const home = join(root, 'shared');
    const dir = join(home, '.cache', 'cosignkit', 'node-compile-cache');
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    const codeCache = join(home, '.cache', 'cosignkit', 'code-cache');
    mkdirSync(codeCache);
    chmodSync(codeCache, 0o777);
    expect(runPlugin(home, join(home, '.cache')).stdout).toContain('supportedAlgorithms');
    expect(readdirSync(dir)).toEqual([]);
    expect(readdirSync(codeCache)).toEqual([]);
  });
});
