import type { X509Certificate } from '@sigstore/core';
import * as sctModule from '@sigstore/verify/dist/key/sct.js';

type VerifySCTs = typeof sctModule.verifySCTs;
type Ctlogs = Parameters<VerifySCTs>[2];

const results = new WeakMap<X509Certificate, Array<{ issuer: X509Certificate; ctlogs: Ctlogs; logIds: Buffer[] }>>();
let installed = false;

/**
 * A leaf certificate's embedded SCTs verified once per (leaf, issuer, CT logs) objects. What @sigstore/verify's
 * `verifySCTs` answers is a function of those three alone: the SCTs and the precertificate come from the
 * leaf's bytes, the issuer key hash from its issuing CA, each SCT's time from the SCT itself, and the CT logs
 * (with their validity windows) from the trusted root; no time of the verification enters it. A leaf comes
 * from the parsed-certificate cache (the same object for the same bytes) and the issuer and CT logs from the
 * trust material built once per root, so a certificate that signs many artifacts (a CI job's files) has its
 * SCT checked once, like its chain signature. A failure is not remembered (it throws again, checked afresh),
 * and a different root object, issuer or leaf object is a different key. Every signature of the bundle itself
 * (artifact, log entry, checkpoint, timestamps) is still checked on every verification.
 */
export function installSctResults(): void {
  if (installed) return;
  installed = true;
  // The module object @sigstore/verify's key check calls through (`sct_1.verifySCTs`): its exports object.
  const target = ((sctModule as { default?: unknown }).default ?? sctModule) as { verifySCTs: VerifySCTs };
  const original = target.verifySCTs;
  target.verifySCTs = (cert, issuer, ctlogs) => {
    const known = results.get(cert);
    const hit = known?.find((entry) => entry.issuer === issuer && entry.ctlogs === ctlogs);
    if (hit) return [...hit.logIds];
    const logIds = original(cert, issuer, ctlogs);
    const entries = known ?? [];
    if (entries.length >= 4) entries.shift();
    entries.push({ issuer, ctlogs, logIds: [...logIds] });
    results.set(cert, entries);
    return logIds;
  };
}
