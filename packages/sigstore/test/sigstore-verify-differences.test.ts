/**
 * Each case where cosignkit's answer differs from @sigstore/verify's on the same bundle and root (the
 * package README lists them). Every test runs both and asserts both answers, so a future @sigstore/verify
 * that changes its mind shows up here.
 */
import { describe, expect, it } from 'vitest';
import { bundleFromJSON } from '@sigstore/bundle';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { compileIdentityPolicy, parseTrustedRoot, verifyBundle, type IdentityPolicyInput } from '../src/index.js';
import { CASES, fixture, fixtureJson, quietLogger, rootOf, withBrokenCertificates } from './helpers.js';

function upstream(
  bundle: unknown,
  root: TrustedRoot,
  artifact: Buffer | undefined,
  options: { tlogThreshold?: number; policy?: { subjectAlternativeName?: string } } = {},
) {
  try {
    new Verifier(toTrustMaterial(root), {
      tlogThreshold: options.tlogThreshold ?? 1,
      ctlogThreshold: 1,
      timestampThreshold: 1,
    }).verify(toSignedEntity(bundleFromJSON(bundle), artifact), options.policy);
    return 'OK';
  } catch (error) {
    return (error as { code: string }).code;
  }
}

function ours(
  bundle: unknown,
  root: TrustedRoot,
  artifact: Buffer,
  identity: IdentityPolicyInput,
  extra: { insecureIgnoreTlog?: boolean; useSignedTimestamps?: boolean } = {},
) {
  const { logger, warnings } = quietLogger();
  const result = verifyBundle(bundle, {
    trustedRoot: root,
    policy: compileIdentityPolicy(identity, { required: true }),
    artifact: { bytes: artifact },
    logger,
    ...extra,
  });
  return { result, warnings };
}

const TSA_IDENTITY = {
  certificateIdentity: 'alexis.challande@trailofbits.com',
  certificateOidcIssuer: 'https://accounts.google.com',
};

/** The staging root with the TSA sigstore-python verifies this bundle with (its test/assets/tsa/ca.json). */
function stagingWithTestTsa(): TrustedRoot {
  const root = fixtureJson('staging-trusted_root.json');
  root.timestampAuthorities = [fixtureJson('tsa-ca.json')];
  return parseTrustedRoot(root, 'staging + tsa/ca.json').root;
}

describe('where cosignkit changes @sigstore/verify 4.x answers', () => {
  it('1. messageDigest is compared with the artifact (upstream never looks at it when no log entry binds it)', () => {
    // A log-less bundle timed by a TSA (cosign --insecure-ignore-tlog --use-signed-timestamps): the TSA
    // bundle with its Rekor entry and its bad second timestamp taken out, and a messageDigest of 0x07 bytes.
    const bundle = fixtureJson('tsa-bundle.txt.sigstore');
    bundle.verificationMaterial.tlogEntries = [];
    bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps.splice(1);
    const artifact = fixture('tsa-bundle.txt');
    const honest = ours(bundle, stagingWithTestTsa(), artifact, TSA_IDENTITY, {
      insecureIgnoreTlog: true,
      useSignedTimestamps: true,
    });
    expect(honest.result.failures).toEqual([]); // the control
    bundle.messageSignature.messageDigest.digest = Buffer.alloc(32, 7).toString('base64');
    expect(upstream(bundle, stagingWithTestTsa(), artifact, { tlogThreshold: 0 })).toBe('OK');
    const { result } = ours(bundle, stagingWithTestTsa(), artifact, TSA_IDENTITY, {
      insecureIgnoreTlog: true,
      useSignedTimestamps: true,
    });
    expect(result.verified).toBe(false);
    expect(result.failures.map((f) => f.message)).toEqual([
      expect.stringMatching(/^the bundle's messageDigest \(sha256:0707.*\) is not the artifact's/),
    ]);
  });

  it('2. --certificate-identity is exact (upstream turns the string into an unanchored RegExp)', () => {
    const bundle = fixtureJson('bundle_v3.txt.sigstore');
    const artifact = fixture('bundle_v3.txt');
    // "william@yossarian.ne" (and "w.lliam@yossarian.net") are not the identity, yet String#match accepts them.
    for (const wrong of ['william@yossarian.ne', 'w.lliam@yossarian.net', 'yossarian']) {
      expect(upstream(bundle, rootOf('staging'), artifact, { policy: { subjectAlternativeName: wrong } })).toBe('OK');
      const { result } = ours(bundle, rootOf('staging'), artifact, {
        certificateIdentity: wrong,
        certificateOidcIssuer: 'https://github.com/login/oauth',
      });
      expect(result.verified).toBe(false);
      expect(result.failures[0]!.message).toContain('--certificate-identity: expected');
    }
  });

  describe('3. the TSA bundle: unverifiable extra timestamps are skipped, as cosign (sigstore-go) and sigstore-python do', () => {
    const bundle = fixtureJson('tsa-bundle.txt.sigstore');
    const artifact = fixture('tsa-bundle.txt');

    it('with the ClientTrustConfig shipped beside it: neither timestamp is from its TSA; the Rekor time suffices', () => {
      const root = rootOf('tsa-trust-config');
      expect(upstream(bundle, root, artifact)).toBe('TIMESTAMP_ERROR');
      const { result, warnings } = ours(bundle, root, artifact, TSA_IDENTITY);
      expect(result.failures).toEqual([]);
      expect(warnings).toEqual([
        expect.stringMatching(/^RFC 3161 timestamp 1 \(2024-10-31T10:23:39.000Z\) does not verify/),
        expect.stringMatching(/^RFC 3161 timestamp 2 \(2024-10-31T13:31:44.000Z\) does not verify/),
      ]);
      expect(result.signatures[0]!.timestamps!.map((t) => t.source)).toEqual(['transparency-log']);
      // …and requiring a signed timestamp fails, as `cosign verify-blob --use-signed-timestamps` does (0 < 1).
      const strict = ours(bundle, root, artifact, TSA_IDENTITY, { useSignedTimestamps: true }).result;
      expect(strict.failures.map((f) => f.message)).toEqual([expect.stringMatching(/^--use-signed-timestamps: /)]);
    });

    it('with the TSA that issued it (sigstore-python\'s tsa/ca.json): timestamp 1 verifies, timestamp 2 covers SHA-512("hello")', () => {
      const root = stagingWithTestTsa();
      expect(upstream(bundle, root, artifact)).toBe('TIMESTAMP_ERROR');
      const { result, warnings } = ours(bundle, root, artifact, TSA_IDENTITY, { useSignedTimestamps: true });
      expect(result.failures).toEqual([]);
      expect(result.signatures[0]!.timestamps!.map((t) => [t.source, t.time.toISOString()])).toEqual([
        ['transparency-log', '2024-10-31T10:23:39.000Z'],
        ['timestamp-authority', '2024-10-31T10:23:39.000Z'],
      ]);
      expect(warnings).toEqual([expect.stringMatching(/^RFC 3161 timestamp 2 \(2024-10-31T13:31:44.000Z\)/)]);
    });

    it('a bundle whose only verified time would come from a bad timestamp still fails', () => {
      const noTlog = structuredClone(bundle);
      noTlog.verificationMaterial.tlogEntries = [];
      const { result } = ours(noTlog, rootOf('tsa-trust-config'), artifact, TSA_IDENTITY, { insecureIgnoreTlog: true });
      expect(result.verified).toBe(false);
      expect(result.failures[0]!.message).toMatch(/TIMESTAMP_ERROR/);
    });
  });

  describe('4–6. bundle shape and --insecure-ignore-tlog, as sigstore-go (cosign) reads them', () => {
    const v3 = () => fixtureJson('bundle_v3.txt.sigstore');
    const artifact = fixture('bundle_v3.txt');
    const identity = {
      certificateIdentity: 'william@yossarian.net',
      certificateOidcIssuer: 'https://github.com/login/oauth',
    };
    it('4. both a messageSignature and a dsseEnvelope: upstream keeps the message signature; BUNDLE_MALFORMED', () => {
      const both = {
        ...v3(),
        dsseEnvelope: { payload: 'e30=', payloadType: 'application/vnd.in-toto+json', signatures: [] },
      };
      expect(upstream(both, rootOf('staging'), artifact)).toBe('OK');
      expect(() => ours(both, rootOf('staging'), artifact, identity)).toThrow(
        expect.objectContaining({ code: 'BUNDLE_MALFORMED' }),
      );
    });
    it('5. an unknown media type version (v0.4): upstream verifies it as v0.3; BUNDLE_MALFORMED', () => {
      const v04 = { ...v3(), mediaType: 'application/vnd.dev.sigstore.bundle.v0.4+json' };
      expect(upstream(v04, rootOf('staging'), artifact)).toBe('OK');
      expect(() => ours(v04, rootOf('staging'), artifact, identity)).toThrow(
        expect.objectContaining({ code: 'BUNDLE_MALFORMED' }),
      );
    });
    it('6. --insecure-ignore-tlog without a signed timestamp: the certificate is checked now (cosign), not at no time', () => {
      const untimed = v3();
      untimed.verificationMaterial.tlogEntries = [];
      // Upstream with tlogThreshold 0 and no timestamp demands one (threshold 1): there is no "now" mode.
      expect(upstream(untimed, rootOf('staging'), artifact, { tlogThreshold: 0 })).toBe('TIMESTAMP_ERROR');
      // cosignkit checks the chain at the current time, as cosign: this 2024 certificate lived 10 minutes.
      const { result } = ours(untimed, rootOf('staging'), artifact, identity, { insecureIgnoreTlog: true });
      expect(result.verified).toBe(false);
      expect(result.failures[0]!.message).toMatch(/CERTIFICATE_ERROR/);
    });
    // sigstore-go (cosign) reads a bundle with protojson.Unmarshal, DiscardUnknown false: unknown fields,
    // wrong JSON types and two members of a oneof are refused before any signature is checked.
    // [case, edit, what upstream answers]: it verifies the first four as if the field were absent; the others
    // it reads as another bundle (String(true), base64 that skips '*') and fails later, or crashes on.
    const refused: Array<[string, (b: Record<string, any>) => void, string | undefined]> = [
      ['an unknown top-level field', (b) => (b.extra = 1), 'OK'],
      ['an unknown field in a log entry', (b) => (b.verificationMaterial.tlogEntries[0].note = 'x'), 'OK'],
      ['an unknown field in the message digest', (b) => (b.messageSignature.messageDigest.hex = 'ab'), 'OK'],
      ['a protobuf field name (tlog_entries)', (b) => (b.verificationMaterial.tlog_entries = []), 'OK'],
      [
        'logIndex: true',
        (b) => (b.verificationMaterial.tlogEntries[0].logIndex = true),
        'TLOG_INCLUSION_PROMISE_ERROR',
      ],
      [
        'a Merkle hash that is not base64',
        (b) => (b.verificationMaterial.tlogEntries[0].inclusionProof.hashes[0] = '*'),
        'TLOG_INCLUSION_PROOF_ERROR',
      ],
      ['tlogEntries: [null]', (b) => (b.verificationMaterial.tlogEntries = [null]), undefined],
      [
        'a certificate and a chain (one oneof)',
        (b) => (b.verificationMaterial.x509CertificateChain = { certificates: [b.verificationMaterial.certificate] }),
        undefined,
      ],
    ];
    for (const [name, edit, upstreamAnswer] of refused) {
      it(`7. ${name}: upstream answers ${upstreamAnswer ?? 'with a crash'}; BUNDLE_MALFORMED, as sigstore-go`, () => {
        const bundle = v3();
        edit(bundle);
        expect(upstream(bundle, rootOf('staging'), artifact)).toBe(upstreamAnswer);
        expect(() => ours(bundle, rootOf('staging'), artifact, identity)).toThrow(
          expect.objectContaining({ code: 'BUNDLE_MALFORMED' }),
        );
      });
    }
    it('7. a DSSE signature with "keyid": []: upstream reads it as "" and verifies; BUNDLE_MALFORMED', () => {
      const dsse = fixtureJson('bundleV03-intoto.sigstore');
      dsse.dsseEnvelope.signatures[0].keyid = [];
      const brian = {
        certificateIdentity: 'brian@dehamer.com',
        certificateOidcIssuer: 'https://github.com/login/oauth',
      };
      expect(upstream(dsse, rootOf('public-good'), undefined)).toBe('OK');
      expect(() =>
        verifyBundle(dsse, {
          trustedRoot: rootOf('public-good'),
          policy: compileIdentityPolicy(brian, { required: true }),
        }),
      ).toThrow(expect.objectContaining({ code: 'BUNDLE_MALFORMED', message: expect.stringMatching(/keyid/) }));
      // The same bundle with its keyid as the string protojson expects verifies.
      dsse.dsseEnvelope.signatures[0].keyid = '';
      const result = verifyBundle(dsse, {
        trustedRoot: rootOf('public-good'),
        policy: compileIdentityPolicy(brian, { required: true }),
      });
      expect(result.verified).toBe(true);
    });
    it('7. null is an unset field, as in protojson: still verifies', () => {
      const bundle = v3();
      bundle.verificationMaterial.timestampVerificationData = null;
      expect(ours(bundle, rootOf('staging'), artifact, identity).result.verified).toBe(true);
    });
  });
});

describe("8. a trusted root's root certificate with a broken self-signature", () => {
  const breakLast = (root: Record<string, any>, pick: (chain: unknown[]) => number) =>
    parseTrustedRoot(withBrokenCertificates(root, pick), 'edited').root;
  const github = CASES.find((c) => c.bundle === 'bundle_v3_github.whl.sigstore')!;
  const bundle = () => fixtureJson(github.bundle);
  const artifact = fixture(github.artifact!);
  const identity = { certificateIdentity: github.identity, certificateOidcIssuer: github.issuer };

  it('upstream finds no certificate path; verifies, as cosign (Go takes a trust anchor as given)', () => {
    const root = breakLast(fixtureJson('public-good-trusted_root.json'), (chain) => chain.length - 1);
    expect(upstream(bundle(), root, artifact)).toBe('CERTIFICATE_ERROR');
    expect(ours(bundle(), root, artifact, identity).result.verified).toBe(true);
  });

  it('an intermediate with a broken signature still fails both', () => {
    const root = breakLast(fixtureJson('public-good-trusted_root.json'), (chain) => (chain.length > 1 ? 0 : -1));
    expect(upstream(bundle(), root, artifact)).toBe('CERTIFICATE_ERROR');
    const { result } = ours(bundle(), root, artifact, identity);
    expect(result.verified).toBe(false);
  });
});
