import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cosignkitCacheDir, describeOrigin, embeddedTrustedRoot, loadTrustedRoot } from '../src/index.js';
import { FIXTURES, quietLogger } from './helpers.js';

const tempEnv = () => ({ XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'cosignkit-trust-')) });

/** A refresh standing in for an unreachable TUF repository (no network in tests). */
const unreachableTuf = async (): Promise<never> => {
  throw new Error('getaddrinfo ENOTFOUND tuf-repo-cdn.sigstore.dev');
};

describe('trusted roots', () => {
  it('--trusted-root reads a TrustedRoot and a ClientTrustConfig, and says which', async () => {
    const plain = await loadTrustedRoot({
      trustedRootPath: join(FIXTURES, 'public-good-trusted_root.json'),
      refresh: unreachableTuf,
    });
    expect(plain.origin).toEqual({
      kind: 'file',
      path: join(FIXTURES, 'public-good-trusted_root.json'),
      format: 'trusted-root',
    });
    const config = await loadTrustedRoot({
      trustedRootPath: join(FIXTURES, 'tsa-trust_config.json'),
      refresh: unreachableTuf,
    });
    expect(config.origin).toMatchObject({ format: 'client-trust-config' });
    expect(config.root.timestampAuthorities).toHaveLength(1);
  });

  it('refuses a bundle, a directory, a missing file and garbage as a trusted root', async () => {
    await expect(loadTrustedRoot({ trustedRootPath: join(FIXTURES, 'bundleV03-dsse.sigstore') })).rejects.toMatchObject(
      { code: 'BUNDLE_MALFORMED' },
    );
    await expect(loadTrustedRoot({ trustedRootPath: FIXTURES })).rejects.toMatchObject({ code: 'NOT_A_FILE' });
    await expect(loadTrustedRoot({ trustedRootPath: join(FIXTURES, 'nope.json') })).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
    });
    await expect(loadTrustedRoot({ trustedRootPath: join(FIXTURES, 'bundle_v3.txt') })).rejects.toMatchObject({
      code: 'BUNDLE_MALFORMED',
    });
  });

  it('the embedded public-good root is the one the fixtures README names (from @sigstore/tuf seeds.json)', async () => {
    const { readFileSync } = await import('node:fs');
    const fixture = JSON.parse(readFileSync(join(FIXTURES, 'public-good-trusted_root.json'), 'utf8'));
    const { TrustedRoot } = await import('@sigstore/protobuf-specs');
    expect(TrustedRoot.toJSON(embeddedTrustedRoot('public-good').root)).toEqual(
      TrustedRoot.toJSON(TrustedRoot.fromJSON(fixture)),
    );
  });

  it('--offline never calls the refresh and reports the embedded root (staging selectable)', async () => {
    const env = tempEnv();
    const { logger } = quietLogger();
    const infos: string[] = [];
    const loaded = await loadTrustedRoot({
      offline: true,
      env,
      refresh: unreachableTuf,
      logger: { ...logger, info: (m) => void infos.push(m) },
    });
    expect(loaded.origin).toEqual({ kind: 'embedded', instance: 'public-good', from: '@sigstore/tuf seeds.json' });
    expect(infos).toEqual(['using the embedded public-good trusted root (@sigstore/tuf seeds.json)']);
    const staging = await loadTrustedRoot({ offline: true, staging: true, env, refresh: unreachableTuf });
    expect(describeOrigin(staging.origin)).toBe(
      'embedded staging trusted root (pinned sigstage.dev trusted_root.json)',
    );
  });

  it('an unreachable TUF repository falls back to the cached root, else the embedded one, with a warning', async () => {
    const env = tempEnv();
    const { logger, warnings } = quietLogger();
    const first = await loadTrustedRoot({ env, refresh: unreachableTuf, logger });
    expect(first.origin.kind).toBe('embedded');
    expect(warnings).toEqual([
      expect.stringMatching(
        /^TUF refresh of the public-good root failed \(getaddrinfo ENOTFOUND .*\); using the embedded public-good trusted root/,
      ),
    ]);
    // A refresh that succeeded once leaves its root in the cache; later failures and --offline use it.
    const refreshed = await loadTrustedRoot({ env, refresh: async () => embeddedTrustedRoot('staging').root, logger });
    expect(refreshed.origin.kind).toBe('tuf');
    const cachePath = join(cosignkitCacheDir(env), 'public-good-trusted_root.json');
    const offline = await loadTrustedRoot({ env, offline: true, refresh: unreachableTuf });
    expect(offline.origin).toEqual({ kind: 'cache', instance: 'public-good', path: cachePath });
    const fallback = await loadTrustedRoot({ env, refresh: unreachableTuf, logger });
    expect(fallback.origin.kind).toBe('cache');
    // A damaged cache is skipped, not fatal.
    mkdirSync(cosignkitCacheDir(env), { recursive: true });
    writeFileSync(cachePath, '{not json');
    expect((await loadTrustedRoot({ env, offline: true })).origin.kind).toBe('embedded');
  });
});
