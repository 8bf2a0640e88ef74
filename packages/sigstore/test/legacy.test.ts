import { describe, expect, it } from 'vitest';
import { compileIdentityPolicy, verifyBundle } from '../src/index.js';
import { fixture, fixtureJson, quietLogger, rootOf } from './helpers.js';

// The certificate's SCT is from the staging "test" CT log, whose key the current staging root trusts only
// until 2022-07-31, while the SCT is from 2022-10-13: so the SCT check is off here (--insecure-ignore-sct),
// and a test proves the SCT is what fails without it.
describe("cosign's legacy keyless bundle ({base64Signature, cert, rekorBundle})", () => {
  const sct = { insecureIgnoreSct: true };
  const policy = compileIdentityPolicy(
    { certificateIdentity: 'william@yossarian.net', certificateOidcIssuer: 'https://github.com/login/oauth' },
    { required: true },
  );
  it('verifies through its rekorBundle SET (sigstore-python offline-rekor.txt, staging 2022)', () => {
    const { logger } = quietLogger();
    const result = verifyBundle(fixtureJson('offline-rekor.txt.cosign-bundle.json'), {
      trustedRoot: rootOf('staging'),
      policy,
      artifact: { bytes: fixture('offline-rekor.txt') },
      logger,
      ...sct,
    });
    expect(result.failures).toEqual([]);
    expect(result.signatures[0]!.tlogEntries).toEqual([
      expect.objectContaining({ logIndex: 827575, kind: 'hashedrekord' }),
    ]);
  });
  it('fails for another artifact and for a tampered SET', () => {
    const other = verifyBundle(fixtureJson('offline-rekor.txt.cosign-bundle.json'), {
      trustedRoot: rootOf('staging'),
      policy,
      artifact: { bytes: Buffer.from('other') },
      ...sct,
    });
    expect(other.verified).toBe(false);
    const tampered = fixtureJson('offline-rekor.txt.cosign-bundle.json');
    tampered.rekorBundle.Payload.integratedTime += 1;
    const bad = verifyBundle(tampered, {
      trustedRoot: rootOf('staging'),
      policy,
      artifact: { bytes: fixture('offline-rekor.txt') },
      ...sct,
    });
    expect(bad.verified).toBe(false);
    expect(bad.failures[0]!.message).toMatch(/TLOG_INCLUSION_PROMISE_ERROR/);
  });
  it('without --insecure-ignore-sct the expired CT log key fails it', () => {
    const result = verifyBundle(fixtureJson('offline-rekor.txt.cosign-bundle.json'), {
      trustedRoot: rootOf('staging'),
      policy,
      artifact: { bytes: fixture('offline-rekor.txt') },
    });
    expect(result.failures.map((f) => f.message)).toEqual(['SCT verification failed [CERTIFICATE_ERROR]']);
  });
  it('is BUNDLE_MALFORMED without a rekorBundle', () => {
    const broken = fixtureJson('offline-rekor.txt.cosign-bundle.json');
    delete broken.rekorBundle;
    expect(() =>
      verifyBundle(broken, {
        trustedRoot: rootOf('staging'),
        policy,
        artifact: { bytes: fixture('offline-rekor.txt') },
      }),
    ).toThrow(expect.objectContaining({ code: 'BUNDLE_MALFORMED' }));
  });
});
