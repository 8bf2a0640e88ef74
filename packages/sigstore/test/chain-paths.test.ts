import { describe, expect, it } from 'vitest';
import { bundleFromJSON } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { CertificateChainVerifier } from '@sigstore/verify/dist/key/certificate.js';
import { installChainPaths } from '../src/verify/chain-paths.js';
import { accelerateCertificate, parsedCertificate } from '../src/verify/fast-certificates.js';
import { fixtureJson, rootOf } from './helpers.js';

/** The GitHub bundle's leaf (one object per DER) and public good's CA chains, parsed once as trust material. */
function material() {
  const content = bundleFromJSON(fixtureJson('bundle_v3_github.whl.sigstore')).verificationMaterial.content;
  if (content.$case !== 'x509CertificateChain') throw new Error('fixture changed');
  const leaf = parsedCertificate(content.x509CertificateChain.certificates[0]!.rawBytes);
  const chains = rootOf('public-good').certificateAuthorities.map((ca) =>
    (ca.certChain?.certificates ?? []).map((c) =>
      accelerateCertificate(X509Certificate.parse(Buffer.from(c.rawBytes)), { trusted: true }),
    ),
  );
  return { leaf, chains };
}

const verifyAt = (leaf: X509Certificate, chain: X509Certificate[], timestamp: Date) =>
  new CertificateChainVerifier({ untrustedCert: leaf, trustedCerts: chain, timestamp }).verify();

describe('chain paths remembered per (leaf, trusted certificates)', () => {
  installChainPaths();
  const { leaf, chains } = material();
  const inForce = leaf.notBefore;
  const issuing = chains.find((chain) => {
    try {
      verifyAt(leaf, chain, inForce);
      return true;
    } catch {
      return false;
    }
  })!;

  it('the same path as the library, a fresh array each call', () => {
    expect(issuing).toBeDefined();
    const first = verifyAt(leaf, issuing, inForce);
    const second = verifyAt(leaf, [...issuing], inForce);
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    expect(first[0]).toBe(leaf);
    expect(first.length).toBe(issuing.length + 1);
    first.pop(); // a caller changing its copy changes nothing remembered
    expect(verifyAt(leaf, issuing, inForce).length).toBe(issuing.length + 1);
  });

  it('the path is looked for once: later calls do not build it again', () => {
    verifyAt(leaf, issuing, inForce);
    const proto = CertificateChainVerifier.prototype as unknown as { sort: () => X509Certificate[] };
    const sort = proto.sort;
    let sorts = 0;
    proto.sort = function (this: unknown) {
      sorts++;
      return sort.call(this);
    };
    try {
      for (let i = 0; i < 5; i++) verifyAt(leaf, [...issuing], inForce);
      expect(sorts).toBe(0);
      expect(() => verifyAt(leaf, chains.find((c) => c !== issuing)!, inForce)).toThrow();
      expect(sorts).toBe(1);
    } finally {
      proto.sort = sort;
    }
  });

  it('validity is checked at each call’s time, after the path is known', () => {
    verifyAt(leaf, issuing, inForce);
    const after = new Date(leaf.notAfter.getTime() + 1000);
    const before = new Date(leaf.notBefore.getTime() - 1000);
    for (const time of [after, before]) {
      expect(() => verifyAt(leaf, issuing, time)).toThrow('certificate is not valid or expired at the specified date');
    }
    expect(verifyAt(leaf, issuing, leaf.notAfter)[0]).toBe(leaf); // inclusive end
  });

  it('other trusted certificates are another path: a CA that did not issue the leaf still fails', () => {
    const others = chains.filter((chain) => chain !== issuing);
    expect(others.length).toBeGreaterThan(0);
    for (const chain of others) {
      expect(() => verifyAt(leaf, chain, inForce)).toThrow();
      expect(() => verifyAt(leaf, chain, inForce)).toThrow(); // a failure is not remembered as a success
    }
    expect(verifyAt(leaf, issuing, inForce)[0]).toBe(leaf);
  });
});
