import type { X509Certificate } from '@sigstore/core';
import * as certificateModule from '@sigstore/verify/dist/key/certificate.js';
import { VerificationError } from '@sigstore/verify/dist/error.js';

interface ChainVerifier {
  untrustedCert: X509Certificate;
  trustedCerts: X509Certificate[];
  timestamp: Date;
  sort(): X509Certificate[];
  checkPath(path: X509Certificate[]): void;
  verify(): X509Certificate[];
}

const PATHS_PER_LEAF = 4;
const paths = new WeakMap<X509Certificate, Array<{ trusted: X509Certificate[]; path: X509Certificate[] }>>();
let installed = false;

/**
 * @sigstore/verify's CertificateChainVerifier.verify (key/certificate.js) is sort(), checkPath(path), then
 * every certificate of the path valid at the time. The first two build and check the path from the
 * certificate to a trusted one: a function of the certificate objects alone (their subjects, key ids,
 * signatures, CA flags), with no time in it, yet rebuilt on every verification (for a Fulcio leaf under its
 * CA, and again for the TSA's signing certificate under its chain). Here the path is remembered per
 * (certificate object, trusted certificate objects): a leaf comes from the parsed-certificate cache (one
 * object per DER) and the trusted ones from the trust material built once per root, so one signing
 * certificate covering many artifacts (a CI job's files) has its path found once. The validity of each
 * certificate at the verification's time is checked on every call, with the library's error. A path that
 * fails is not remembered: it is looked for afresh (and fails again) each time. Installed once, as
 * certificate-signers.ts is.
 */
export function installChainPaths(): void {
  if (installed) return;
  installed = true;
  const module = ((certificateModule as { default?: unknown }).default ?? certificateModule) as {
    CertificateChainVerifier: { prototype: ChainVerifier };
  };
  const proto = module.CertificateChainVerifier.prototype;
  proto.verify = function verify(this: ChainVerifier): X509Certificate[] {
    const path = pathOf(this);
    if (!path.every((cert) => cert.validForDate(this.timestamp))) {
      throw new VerificationError({
        code: 'CERTIFICATE_ERROR',
        message: 'certificate is not valid or expired at the specified date',
      });
    }
    return [...path];
  };
}

function pathOf(verifier: ChainVerifier): X509Certificate[] {
  const leaf = verifier.untrustedCert;
  const trusted = verifier.trustedCerts;
  const known = paths.get(leaf);
  if (known) {
    for (const entry of known) if (sameCertificates(entry.trusted, trusted)) return entry.path;
  }
  const path = verifier.sort();
  verifier.checkPath(path);
  const entries = known ?? [];
  if (entries.length >= PATHS_PER_LEAF) entries.shift();
  entries.push({ trusted: [...trusted], path: [...path] });
  paths.set(leaf, entries);
  return path;
}

function sameCertificates(a: X509Certificate[], b: X509Certificate[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
