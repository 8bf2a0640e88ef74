import { CosignkitError } from '@cosignkit/core';
import type { SerializedBundle } from '@sigstore/bundle';
import { RFC3161Timestamp } from '@sigstore/core';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial } from '@sigstore/verify';
import { verifyRFC3161Timestamp } from '@sigstore/verify/dist/timestamp/tsa.js';

/**
 * Checks every RFC 3161 timestamp a new bundle carries against the trusted root's TSAs, strictly. A verifier
 * may skip a timestamp that does not verify (verify/signed-timestamps.ts says why), but a signer that got one
 * from its own TSA has a broken service: a certificate out of its validity window at the time it stamped, a
 * TSA the root does not name, a stamp over something else. Signing stops with one line and writes nothing.
 */
export function checkNewTimestamps(bundle: SerializedBundle, root: TrustedRoot): void {
  const stamps = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? [];
  if (stamps.length === 0) return;
  const signature = bundle.messageSignature?.signature ?? bundle.dsseEnvelope?.signatures[0]?.sig ?? undefined;
  if (signature === undefined) return;
  const authorities = toTrustMaterial(root).timestampAuthorities;
  stamps.forEach((stamp, i) => {
    let time = '';
    try {
      const parsed = RFC3161Timestamp.parse(Buffer.from(stamp.signedTimestamp, 'base64'));
      time = ` at ${parsed.signingTime.toISOString()}`;
      const why = whyNot(parsed, authorities);
      if (why) throw new Error(why);
      verifyRFC3161Timestamp(parsed, Buffer.from(signature, 'base64'), authorities);
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).replace(/\p{Cc}+/gu, ' ');
      throw new CosignkitError(
        'BACKEND_FAILURE',
        `the timestamp authority's timestamp${stamps.length > 1 ? ` ${i + 1}` : ''}${time} does not verify against the trusted root: ${reason}`,
      );
    }
  });
}

type Authorities = ReturnType<typeof toTrustMaterial>['timestampAuthorities'];

/** The plain reason for the common refusals (@sigstore/verify says only "timestamp could not be verified"). */
function whyNot(stamp: RFC3161Timestamp, authorities: Authorities): string | undefined {
  const issued = authorities.filter(
    (ca) =>
      ca.certChain[0] !== undefined &&
      Buffer.compare(ca.certChain[0].serialNumber, stamp.signerSerialNumber) === 0 &&
      Buffer.compare(ca.certChain[0].issuer, stamp.signerIssuer) === 0,
  );
  if (issued.length === 0) return 'no TSA of the trusted root signed it';
  const time = stamp.signingTime;
  const leaf = issued[0]!.certChain[0]!;
  if (issued.every((ca) => time < ca.certChain[0]!.notBefore || time > ca.certChain[0]!.notAfter)) {
    return `the TSA certificate is valid from ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()}, not at the time it stamped`;
  }
  if (issued.every((ca) => time < ca.validFor.start || time > ca.validFor.end)) {
    return `the trusted root names this TSA from ${issued[0]!.validFor.start.toISOString()} to ${issued[0]!.validFor.end.toISOString()} only`;
  }
  return undefined;
}
