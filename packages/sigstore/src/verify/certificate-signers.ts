import { crypto as sigstoreCrypto, type X509Certificate } from '@sigstore/core';
import * as certificateModule from '@sigstore/verify/dist/key/certificate.js';
import * as keyModule from '@sigstore/verify/dist/key/index.js';
import * as sctModule from '@sigstore/verify/dist/key/sct.js';

type VerifyCertificate = typeof keyModule.verifyCertificate;
type Signer = ReturnType<VerifyCertificate>['signer'];

const OID_FULCIO_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const OID_FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const signers = new WeakMap<X509Certificate, Signer>();
let installed = false;

/** The exports object a CommonJS module's callers read through (an ES namespace holds it as `default`). */
function exportsOf<T>(namespace: T): T {
  return ((namespace as { default?: unknown }).default ?? namespace) as T;
}

/**
 * @sigstore/verify's `verifyCertificate` (key/index.js) as it is, step for step: the chain checked at every
 * verified time, the leaf's SCTs, then the signer. Only the signer is read once per certificate object: its
 * `getSigner` decodes every extension's OID into a list and imports the key on every verification, and both
 * are functions of the certificate's bytes (a leaf from the parsed-certificate cache is one object per DER).
 * The chain, validity and SCT steps still run each time (sct-results.ts says what it remembers).
 */
export function installCertificateSigners(): void {
  if (installed) return;
  installed = true;
  const target = exportsOf(keyModule);
  const chains = exportsOf(certificateModule);
  const scts = exportsOf(sctModule);
  target.verifyCertificate = (leaf, timestamps, trustMaterial) => {
    let path: X509Certificate[] = [];
    for (const timestamp of timestamps) {
      path = chains.verifyCertificateChain(timestamp, leaf, trustMaterial.certificateAuthorities);
    }
    return { scts: scts.verifySCTs(path[0]!, path[1]!, trustMaterial.ctlogs), signer: signerOf(path[0]!) };
  };
}

/** @sigstore/verify's getSigner, once per certificate object. */
function signerOf(cert: X509Certificate): Signer {
  let signer = signers.get(cert);
  if (!signer) {
    const v2 = cert.extension(OID_FULCIO_ISSUER_V2);
    const issuer = v2
      ? v2.valueObj.subs?.[0]?.value.toString('ascii')
      : cert.extension(OID_FULCIO_ISSUER_V1)?.value.toString('ascii');
    const oids = cert.extensions.map((ext) => ({
      oid: { id: ext.subs[0]!.toOID().split('.').map(Number) },
      value: ext.subs[ext.subs.length - 1]!.value,
    }));
    signer = {
      key: sigstoreCrypto.createPublicKey(cert.publicKey),
      identity: { extensions: { issuer }, subjectAlternativeName: cert.subjectAltName, oids },
    } as Signer;
    signers.set(cert, signer);
  }
  return signer;
}
