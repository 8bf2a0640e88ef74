import { describe, expect, it } from 'vitest';
import { bundleFromJSON } from '@sigstore/bundle';
import { RFC3161Timestamp } from '@sigstore/core';
import { toTrustMaterial } from '@sigstore/verify';
import { verifyRFC3161Timestamp } from '@sigstore/verify/dist/timestamp/tsa.js';
import { parsedTimestamp } from '../src/verify/parsed-timestamps.js';
import { fixtureJson, rootOf } from './helpers.js';

/** The RFC 3161 tokens of the fixtures that carry them, with the root whose TSA signed them. */
const CASES = [
  { bundle: 'staging-rekor-v2.txt.sigstore.json', root: 'staging' as const },
  { bundle: 'tsa-bundle.txt.sigstore', root: 'tsa-trust-config' as const },
];

function tokensOf(name: string): { der: Buffer<ArrayBuffer>; signature: Buffer<ArrayBuffer> }[] {
  const bundle = bundleFromJSON(fixtureJson(name));
  const signature =
    bundle.content.$case === 'messageSignature'
      ? Buffer.from(bundle.content.messageSignature.signature)
      : Buffer.alloc(0);
  return (bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? []).map((t) => ({
    der: Buffer.from(t.signedTimestamp),
    signature,
  }));
}

function outcome(run: () => void): string {
  try {
    run();
    return 'verified';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('parsed-once RFC 3161 timestamps answer as a fresh parse does', () => {
  it('same fields, same verdict on the right and the wrong data, every time; one object per token', () => {
    let compared = 0;
    for (const { bundle, root } of CASES) {
      const authorities = toTrustMaterial(rootOf(root)).timestampAuthorities;
      for (const { der, signature } of tokensOf(bundle)) {
        const cached = parsedTimestamp(der);
        expect(parsedTimestamp(Buffer.from(der))).toBe(cached);
        const fresh = RFC3161Timestamp.parse(der);
        expect(cached.signingTime.getTime()).toBe(fresh.signingTime.getTime());
        expect(cached.signerSerialNumber.equals(fresh.signerSerialNumber)).toBe(true);
        expect(cached.tstInfo.raw.equals(fresh.tstInfo.raw)).toBe(true);
        const wrong = Buffer.from(signature);
        wrong[0]! ^= 1;
        for (let round = 0; round < 3; round++) {
          for (const data of [signature, wrong]) {
            expect(outcome(() => verifyRFC3161Timestamp(cached, data, authorities))).toBe(
              outcome(() => verifyRFC3161Timestamp(RFC3161Timestamp.parse(der), data, authorities)),
            );
          }
        }
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(3);
  });

  it('a token with a flipped signature byte is its own object and fails as a fresh parse fails', () => {
    const { der, signature } = tokensOf('staging-rekor-v2.txt.sigstore.json')[0]!;
    const authorities = toTrustMaterial(rootOf('staging')).timestampAuthorities;
    const tampered = Buffer.from(der);
    tampered[tampered.length - 3]! ^= 1; // inside the signature value, the last field of the token
    const cached = parsedTimestamp(tampered);
    expect(cached).not.toBe(parsedTimestamp(der));
    const fresh = outcome(() => verifyRFC3161Timestamp(RFC3161Timestamp.parse(tampered), signature, authorities));
    expect(fresh).not.toBe('verified');
    expect(outcome(() => verifyRFC3161Timestamp(cached, signature, authorities))).toBe(fresh);
    expect(outcome(() => verifyRFC3161Timestamp(parsedTimestamp(der), signature, authorities))).toBe('verified');
  });
});
