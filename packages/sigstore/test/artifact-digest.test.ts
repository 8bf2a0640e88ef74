import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileIdentityPolicy, parseArtifactDigest, verifyBundleFile } from '../src/index.js';
import { FIXTURES, fixture, rootOf } from './helpers.js';

describe('the sha256:<hex> artifact form (no artifact bytes: the signature is checked over the digest)', () => {
  const policy = compileIdentityPolicy(
    { certificateIdentity: 'william@yossarian.net', certificateOidcIssuer: 'https://github.com/login/oauth' },
    { required: true },
  );
  const digest = createHash('sha256').update(fixture('bundle_v3.txt')).digest('hex');
  it('verifies with the right digest, fails with another', async () => {
    const ok = await verifyBundleFile(join(FIXTURES, 'bundle_v3.txt.sigstore'), `sha256:${digest}`, {
      trustedRoot: rootOf('staging'),
      policy,
    });
    expect(ok.failures).toEqual([]);
    expect(ok.artifact.digest.hex).toBe(digest);
    const other = `${digest.slice(0, -1)}${digest.endsWith('0') ? '1' : '0'}`;
    const bad = await verifyBundleFile(join(FIXTURES, 'bundle_v3.txt.sigstore'), `sha256:${other}`, {
      trustedRoot: rootOf('staging'),
      policy,
    });
    expect(bad.verified).toBe(false);
    expect(bad.failures[0]!.message).toMatch(/messageDigest .* is not the artifact's/);
  });
  it('checks the digest length', () => {
    expect(() => parseArtifactDigest('sha256:abcd')).toThrow(/64 hex digits/);
    expect(parseArtifactDigest('README.md')).toBeUndefined();
  });
});
