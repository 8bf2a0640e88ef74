import { describe, expect, it } from 'vitest';
import { X509Certificate } from '@sigstore/core';
import { compileIdentityPolicy, parseTrustedRoot, verifyBundle, type ArtifactInput } from '../src/index.js';
import {
  CASES,
  fixture,
  fixtureJson,
  flipByte,
  flipPayloadByte,
  quietLogger,
  relogAt,
  rootOf,
  withoutTlog,
  type Case,
} from './helpers.js';

function run(
  c: Case,
  overrides: {
    bundle?: unknown;
    artifact?: ArtifactInput;
    root?: ReturnType<typeof rootOf>;
    identity?: Record<string, string>;
  } = {},
) {
  const { logger, warnings } = quietLogger();
  const policy = compileIdentityPolicy(
    overrides.identity ?? { certificateIdentity: c.identity, certificateOidcIssuer: c.issuer },
    { required: true, logger },
  );
  const result = verifyBundle(overrides.bundle ?? fixtureJson(c.bundle), {
    trustedRoot: overrides.root ?? rootOf(c.root),
    policy,
    ...(overrides.artifact
      ? { artifact: overrides.artifact }
      : c.artifact
        ? { artifact: { bytes: fixture(c.artifact) } }
        : {}),
    logger,
  });
  return { result, warnings };
}

describe('every interop/public-good bundle verifies with the identity, issuer and root its README gives', () => {
  for (const c of CASES) {
    it(c.bundle, () => {
      const { result } = run(c);
      expect(result.failures).toEqual([]);
      expect(result.verified).toBe(true);
      const check = result.signatures[0]!;
      expect(check.certificate?.subjectAlternativeNames).toContain(c.identity);
      expect(check.certificate?.issuer).toBe(c.issuer);
      expect(check.tlogEntries).toHaveLength(1);
      expect(check.tlogEntries![0]!.logIndex).toBe(
        Number(fixtureJson(c.bundle).verificationMaterial.tlogEntries[0].logIndex),
      );
      expect(check.timestamps!.length).toBeGreaterThan(0);
      expect(result.bundle?.content).toBe(c.dsse ? 'dsse' : 'message-signature');
    });
  }

  it('reports the GitHub workflow extensions of a GitHub Actions certificate and checks each flag', () => {
    const c = CASES.find((x) => x.bundle === 'bundle_v3_github.whl.sigstore')!;
    const { result } = run(c, {
      identity: {
        certificateIdentity: c.identity,
        certificateOidcIssuer: c.issuer,
        githubWorkflowTrigger: 'release',
        githubWorkflowRepository: 'trailofbits/rfc8785.py',
        githubWorkflowRef: 'refs/tags/v0.1.2',
        githubWorkflowName: 'release',
      },
    });
    expect(result.failures).toEqual([]);
    const ext = result.signatures[0]!.certificate!.extensions!;
    expect(ext.githubWorkflowSha).toMatch(/^[0-9a-f]{40}$/);
    expect(ext.sourceRepositoryURI).toBe('https://github.com/trailofbits/rfc8785.py');
    const wrong = run(c, {
      identity: { certificateIdentity: c.identity, certificateOidcIssuer: c.issuer, githubWorkflowSha: '0'.repeat(40) },
    });
    expect(wrong.result.verified).toBe(false);
    expect(wrong.result.failures[0]!.message).toMatch(
      /--certificate-github-workflow-sha: expected "0{40}", the certificate has "[0-9a-f]{40}"/,
    );
  });

  it('Rekor v2: the entry has no integration time, the RFC 3161 timestamp is the verified time', () => {
    const c = CASES.find((x) => x.bundle.startsWith('staging-rekor-v2'))!;
    const check = run(c).result.signatures[0]!;
    expect(check.tlogEntries![0]).toMatchObject({ kind: 'hashedrekord', version: '0.0.2' });
    expect(check.tlogEntries![0]!.integratedTime).toBeUndefined();
    expect(check.timestamps!.map((t) => t.source)).toEqual(['timestamp-authority']);
  });
});

describe('negatives derived from every bundle fail with VERIFICATION_FAILED, naming what did not match', () => {
  for (const c of CASES) {
    describe(c.bundle, () => {
      it(c.dsse ? 'a flipped byte in the payload' : 'a flipped byte in the artifact', () => {
        const r = c.dsse
          ? run(c, { bundle: flipPayloadByte(fixtureJson(c.bundle)) })
          : run(c, { artifact: { bytes: flipByte(fixture(c.artifact!)) } });
        expect(r.result.verified).toBe(false);
        expect(r.result.failures.every((f) => f.code === 'VERIFICATION_FAILED')).toBe(true);
      });
      it('the wrong identity', () => {
        const r = run(c, { identity: { certificateIdentity: `x${c.identity}`, certificateOidcIssuer: c.issuer } });
        expect(r.result.verified).toBe(false);
        expect(r.result.failures.map((f) => f.message)).toEqual([
          expect.stringMatching(/^--certificate-identity: expected "x/),
        ]);
      });
      it('the wrong issuer', () => {
        const r = run(c, {
          identity: { certificateIdentity: c.identity, certificateOidcIssuer: 'https://accounts.example.com' },
        });
        expect(r.result.failures.map((f) => f.message)).toEqual([
          expect.stringMatching(/^--certificate-oidc-issuer: expected/),
        ]);
      });
      it('an identity regexp that matches nothing (and a substring regexp that does match, as in cosign)', () => {
        const none = run(c, {
          identity: { certificateIdentityRegexp: '^nobody@example\\.com$', certificateOidcIssuer: c.issuer },
        });
        expect(none.result.failures.map((f) => f.message)).toEqual([
          expect.stringMatching(/^--certificate-identity-regexp: "\^nobody/),
        ]);
        const part = c.identity.slice(4, 10);
        const substring = run(c, { identity: { certificateIdentityRegexp: part, certificateOidcIssuerRegexp: 'com' } });
        expect(substring.result.verified).toBe(true);
        expect(substring.warnings.filter((w) => /has no \^…\$/.test(w))).toHaveLength(2);
      });
      it("the other instance's root", () => {
        const r = run(c, { root: rootOf(c.otherRoot) });
        expect(r.result.verified).toBe(false);
        expect(r.result.failures[0]!.message).toMatch(/CERTIFICATE_ERROR|TIMESTAMP_ERROR|TLOG/);
      });
      it('the tlog entry removed', () => {
        const r = run(c, { bundle: withoutTlog(fixtureJson(c.bundle)) });
        // v0.2+ bundles require entries structurally (BUNDLE_MALFORMED would be exit 3): only count the verdict
        expect(r.result.verified).toBe(false);
        expect(r.result.failures[0]!.message).toMatch(/TLOG_ERROR|TIMESTAMP_ERROR/);
      });
    });
  }

  it('a certificate outside its validity at the integrated time (same bundle re-logged: control passes)', () => {
    const c = CASES.find((x) => x.bundle === 'bundle_v3_github.whl.sigstore')!;
    const original = fixtureJson(c.bundle);
    const cert = X509Certificate.parse(
      Buffer.from(original.verificationMaterial.x509CertificateChain.certificates[0].rawBytes, 'base64'),
    );
    const realTime = Number(original.verificationMaterial.tlogEntries[0].integratedTime);
    const verifyAt = (time: number) => {
      const { bundle, root } = relogAt(original, fixtureJson('public-good-trusted_root.json'), time);
      return run(c, { bundle, root: parseTrustedRoot(root, 'relogged root').root }).result;
    };
    expect(verifyAt(realTime).failures).toEqual([]);
    const inclusiveEnd = verifyAt(cert.notAfter.getTime() / 1000);
    expect(inclusiveEnd.failures).toEqual([]); // validity ends are inclusive (RFC 5280)
    for (const time of [cert.notAfter.getTime() / 1000 + 1, cert.notBefore.getTime() / 1000 - 1]) {
      const late = verifyAt(time);
      expect(late.verified).toBe(false);
      expect(late.failures[0]!.message).toMatch(/^certificate: valid .* not at .* \[CERTIFICATE_ERROR\]$/);
    }
  });
});
