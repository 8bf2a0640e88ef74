import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The plugin cosign starts keeps V8's code cache in a directory private to the user, never in Node's shared
// default under $TMPDIR (where another user could plant code it would run), and not in one others can write.
const PLUGIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin', 'sigstore-kms-cosignkit.cjs');
const root = mkdtempSync(join(tmpdir(), 'cosignkit-plugin-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function runPlugin(home: string, cache: string): { stdout: string } {
  const request = {
    initOptions: { protocolVersion: 'v1', keyResourceID: 'cosignkit://file:keys/', hashFunc: 5 },
    methodName: 'supportedAlgorithms',
    supportedAlgorithms: {},
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

  it('stays off in a cache directory others can write to', () => {
    const home = join(root, 'shared');
    const dir = join(home, '.cache', 'cosignkit', 'node-compile-cache');
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    expect(runPlugin(home, join(home, '.cache')).stdout).toContain('supportedAlgorithms');
    expect(readdirSync(dir)).toEqual([]);
  });
});
