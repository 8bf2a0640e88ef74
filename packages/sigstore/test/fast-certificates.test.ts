import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundleFromJSON } from '@sigstore/bundle';
import { EXTENSION_OID_SCT, X509Certificate, type ASN1Obj } from '@sigstore/core';
import { encodeParsed } from '../src/verify/der-encoding.js';
import { accelerateCertificate, parsedCertificate } from '../src/verify/fast-certificates.js';
import { FIXTURES, fixtureJson, rootOf } from './helpers.js';

/** Every certificate the fixtures hold: each bundle's leaf (and chain) and every root's CAs and TSAs. */
function allCertificates(): Buffer[] {
  const ders: Buffer[] = [];
  for (const name of readdirSync(FIXTURES).filter((f) => /\.sigstore(\.json)?$/.test(f))) {
    const content = bundleFromJSON(fixtureJson(name)).verificationMaterial.content;
    if (content.$case === 'certificate') ders.push(Buffer.from(content.certificate.rawBytes));
    if (content.$case === 'x509CertificateChain')
      for (const c of content.x509CertificateChain.certificates) ders.push(Buffer.from(c.rawBytes));
  }
  for (const root of ['public-good', 'staging', 'tsa-trust-config'] as const) {
    const trusted = rootOf(root);
    for (const ca of [...trusted.certificateAuthorities, ...trusted.timestampAuthorities])
      for (const c of ca.certChain?.certificates ?? []) ders.push(Buffer.from(c.rawBytes));
  }
  return ders;
}

function* nodes(node: ASN1Obj): Generator<ASN1Obj> {
  yield node;
  for (const sub of node.subs) yield* nodes(sub);
}

describe('fast certificate encodings give exactly what @sigstore/core re-encodes', () => {
  const ders = allCertificates();

  it('every node of every fixture certificate: encodeParsed() === toDER()', () => {
    expect(ders.length).toBeGreaterThan(10);
    let count = 0;
    for (const der of ders) {
      for (const node of nodes(X509Certificate.parse(Buffer.from(der)).root)) {
        expect(encodeParsed(node).equals(node.toDER())).toBe(true);
        count++;
      }
    }
    expect(count).toBeGreaterThan(1000);
  });

  it('the precertificate TBS, public key and TBS of each leaf match the library’s remove-and-re-encode', () => {
    let withSct = 0;
    for (const der of ders) {
      const reference = X509Certificate.parse(Buffer.from(der));
      const index = reference.extensions.findIndex((ext) => ext.subs[0]?.toOID() === EXTENSION_OID_SCT);
      const expectedTbs = reference.tbsCertificate.toDER();
      const expectedKey = reference.publicKey;
      if (index !== -1) {
        reference.extensions.splice(index, 1);
        withSct++;
      }
      const expectedPrecert = reference.tbsCertificate.toDER();
      const fast = parsedCertificate(der);
      expect(fast.publicKey.equals(expectedKey)).toBe(true);
      expect(fast.clone().tbsCertificate.toDER().equals(expectedPrecert)).toBe(true);
      // The splice the library does on the clone leaves the cached certificate whole.
      const clone = fast.clone();
      clone.extensions.splice(0, clone.extensions.length);
      expect(fast.extensions.length).toBeGreaterThan(0);
      expect(fast.tbsCertificate.toDER().equals(expectedTbs)).toBe(true);
    }
    expect(withSct).toBeGreaterThan(3);
  });

  it('one parse per distinct leaf; changed bytes are a different certificate', () => {
    const der = ders[0]!;
    expect(parsedCertificate(der)).toBe(parsedCertificate(Buffer.from(der)));
    const flipped = Buffer.from(der);
    flipped[flipped.length - 5]! ^= 0x01; // inside the signature value: still parses
    const other = parsedCertificate(flipped);
    expect(other).not.toBe(parsedCertificate(der));
    const issuer = ders
      .map((d) => accelerateCertificate(X509Certificate.parse(Buffer.from(d))))
      .find((candidate) => parsedCertificate(der).verify(candidate));
    expect(issuer).toBeDefined();
    // A signature check on the flipped copy is its own (it cannot borrow the original's verdict).
    expect(other.verify(issuer)).toBe(false);
    expect(parsedCertificate(der).verify(issuer)).toBe(true);
  });
});
