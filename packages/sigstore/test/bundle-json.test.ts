import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { serializeBundle } from '../src/sign/bundle-json.js';

// serializeBundle writes a new bundle's JSON without protobuf-specs (src/sign/bundle-json.ts); it must be
// exactly what @sigstore/bundle's bundleToJSON writes, byte for byte, for every shape a bundle can take.
const FIXTURES = join(import.meta.dirname, 'fixtures');
const bundles = readdirSync(FIXTURES).filter((name) => /\.sigstore(\.json)?$/.test(name));

describe('serializeBundle', () => {
  it.each(bundles)('writes %s as bundleToJSON does', (name) => {
    const parsed = bundleFromJSON(JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')));
    expect(JSON.stringify(serializeBundle(parsed))).toBe(JSON.stringify(bundleToJSON(parsed)));
  });

  it('writes proto3 defaults (empty strings, bytes, "0", empty lists) as bundleToJSON does', () => {
    const bytes = fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b));
    const int64 = fc.constantFrom('0', '1', '12345');
    const text = fc.constantFrom('', 'x', 'application/vnd.in-toto+json');
    const entry = fc.record({
      logIndex: int64,
      logId: fc.option(fc.record({ keyId: bytes }), { nil: undefined }),
      kindVersion: fc.option(fc.record({ kind: text, version: text }), { nil: undefined }),
      integratedTime: int64,
      inclusionPromise: fc.option(fc.record({ signedEntryTimestamp: bytes }), { nil: undefined }),
      inclusionProof: fc.option(
        fc.record({
          logIndex: int64,
          rootHash: bytes,
          treeSize: int64,
          hashes: fc.array(bytes, { maxLength: 2 }),
          checkpoint: fc.option(fc.record({ envelope: text }), { nil: undefined }),
        }),
        { nil: undefined },
      ),
      canonicalizedBody: bytes,
    });
    const material = fc.record({
      content: fc.oneof(
        fc.record({ $case: fc.constant('certificate' as const), certificate: fc.record({ rawBytes: bytes }) }),
        fc.record({ $case: fc.constant('publicKey' as const), publicKey: fc.record({ hint: text }) }),
        fc.record({
          $case: fc.constant('x509CertificateChain' as const),
          x509CertificateChain: fc.record({ certificates: fc.array(fc.record({ rawBytes: bytes }), { maxLength: 2 }) }),
        }),
      ),
      tlogEntries: fc.array(entry, { maxLength: 2 }),
      timestampVerificationData: fc.option(
        fc.record({ rfc3161Timestamps: fc.array(fc.record({ signedTimestamp: bytes }), { maxLength: 2 }) }),
        { nil: undefined },
      ),
    });
    const content = fc.oneof(
      fc.record({
        $case: fc.constant('messageSignature' as const),
        messageSignature: fc.record({
          messageDigest: fc.option(fc.record({ algorithm: fc.integer({ min: 0, max: 5 }), digest: bytes }), {
            nil: undefined,
          }),
          signature: bytes,
        }),
      }),
      fc.record({
        $case: fc.constant('dsseEnvelope' as const),
        dsseEnvelope: fc.record({
          payload: bytes,
          payloadType: text,
          signatures: fc.array(fc.record({ sig: bytes, keyid: text }), { maxLength: 2 }),
        }),
      }),
    );
    fc.assert(
      fc.property(
        fc.record({ mediaType: text, verificationMaterial: fc.option(material, { nil: undefined }), content }),
        (bundle) => {
          const ours = JSON.stringify(serializeBundle(bundle as never));
          expect(ours).toBe(JSON.stringify(bundleToJSON(bundle as never)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
