import { describe, expect, it } from 'vitest';
import {
  COSIGN_LAYER_ANNOTATIONS,
  compileIdentityPolicy,
  verifyBundle,
  verifyCertificateSignature,
  verifyCosignLayerSignature,
} from '../src/index.js';
import { FIXTURES, fixture, fixtureJson, quietLogger, rootOf } from './helpers.js';

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

describe("cosign's pre-bundle pieces: certificate, signature and Rekor bundle as files or layer annotations", () => {
  const policy = compileIdentityPolicy(
    { certificateIdentity: 'william@yossarian.net', certificateOidcIssuer: 'https://github.com/login/oauth' },
    { required: true },
  );
  const options = { trustedRoot: rootOf('staging'), policy, insecureIgnoreSct: true };
  const rekorBundle = () => fixtureJson('offline-rekor.txt.rekor-bundle.json');
  const signed = () => ({
    kind: 'message' as const,
    payload: fixture('offline-rekor.txt'),
    signature: Buffer.from(fixture('offline-rekor.txt.sig').toString('utf8').trim(), 'base64'),
  });

  it('verifyCosignLayerSignature: the .sig layer annotations of sigstore-python offline-rekor.txt', () => {
    const annotations = {
      [COSIGN_LAYER_ANNOTATIONS.certificate]: fixture('offline-rekor.txt.crt').toString('utf8'),
      [COSIGN_LAYER_ANNOTATIONS.bundle]: JSON.stringify(rekorBundle()),
    };
    const result = verifyCosignLayerSignature(signed(), annotations, options);
    expect(result.failures).toEqual([]);
    expect(result.signatures[0]!.certificate?.identity).toBe('william@yossarian.net');
    // Another payload (as if the layer's blob were swapped) fails the signature and the log body.
    const other = verifyCosignLayerSignature({ ...signed(), payload: Buffer.from('x') }, annotations, options);
    expect(other.verified).toBe(false);
    // A layer without a certificate was signed with a key: failed, not malformed.
    const keyed = verifyCosignLayerSignature(signed(), {}, options);
    expect(keyed.failures[0]!.message).toMatch(/no certificate/);
    expect(() =>
      verifyCosignLayerSignature(signed(), { ...annotations, [COSIGN_LAYER_ANNOTATIONS.bundle]: '{' }, options),
    ).toThrow(expect.objectContaining({ code: 'BUNDLE_MALFORMED' }));
  });

  it('verifyCertificateSignature: --certificate --signature --bundle, and the 2022 certificate is expired now', async () => {
    const files = {
      certificate: `${FIXTURES}offline-rekor.txt.crt`,
      signature: `${FIXTURES}offline-rekor.txt.sig`,
    };
    const ok = await verifyCertificateSignature(
      { ...files, bundle: `${FIXTURES}offline-rekor.txt.cosign-bundle.json` },
      `${FIXTURES}offline-rekor.txt`,
      options,
    );
    expect(ok.failures).toEqual([]);
    // Without the log entry the certificate is checked at the current time, as cosign does: long expired.
    const now = await verifyCertificateSignature(files, `${FIXTURES}offline-rekor.txt`, {
      ...options,
      insecureIgnoreTlog: true,
    });
    expect(now.verified).toBe(false);
    // Neither the entry nor --insecure-ignore-tlog, offline: it cannot be looked up in Rekor (USAGE).
    await expect(
      verifyCertificateSignature(files, `${FIXTURES}offline-rekor.txt`, { ...options, offline: true }),
    ).rejects.toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});
