import type { SignedEntity, TrustMaterial } from '@sigstore/verify';
import { verifyRFC3161Timestamp } from '@sigstore/verify/dist/timestamp/tsa.js';

type Timestamp = SignedEntity['timestamps'][number];

/**
 * Keeps the RFC 3161 timestamps that verify against the trusted TSAs and reports the others.
 *
 * Why not let @sigstore/verify decide: it fails the whole bundle when ANY timestamp does not verify.
 * sigstore-go (hence cosign ≥ 2.4 on new bundles: `VerifySignedTimestampWithThreshold`) and sigstore-python
 * (`_verify_timestamp_authority`) verify each timestamp, skip the ones that do not verify, and require only
 * that the number of verified times reaches the threshold. An unverifiable timestamp proves nothing, so
 * ignoring it cannot make a forgery pass: the certificate is still checked at every time that did verify,
 * and a bundle with too few verified times still fails. The fixture that settles it is sigstore-python's
 * `tsa/bundle.txt.sigstore` (test/fixtures/tsa-bundle.txt.sigstore): its first timestamp is from the test
 * TSA in `tsa/ca.json` (ECDSA, 2024-10-31), its second covers SHA-512("hello"), not the signature; the
 * ClientTrustConfig shipped beside it names a different, RSA test TSA created on 2024-11-07, a week after
 * both timestamps. cosign 2.5 and sigstore-python accept the bundle (on the Rekor integration time, plus the
 * first timestamp with ca.json); @sigstore/verify rejects it with TIMESTAMP_ERROR. We side with cosign.
 */
export function partitionTimestamps(
  timestamps: Timestamp[],
  signature: Buffer,
  trust: TrustMaterial,
): { kept: Timestamp[]; dropped: string[] } {
  const kept: Timestamp[] = [];
  const dropped: string[] = [];
  let index = 0;
  for (const timestamp of timestamps) {
    if (timestamp.$case !== 'timestamp-authority') {
      kept.push(timestamp);
      continue;
    }
    index++;
    try {
      verifyRFC3161Timestamp(timestamp.timestamp, signature, trust.timestampAuthorities);
      kept.push(timestamp);
    } catch (error) {
      const time = safeTime(timestamp.timestamp);
      dropped.push(
        `RFC 3161 timestamp ${index}${time ? ` (${time})` : ''} does not verify against the trusted TSAs: ${(error as Error).message}`,
      );
    }
  }
  return { kept, dropped };
}

function safeTime(timestamp: { signingTime: Date }): string | undefined {
  try {
    return timestamp.signingTime.toISOString();
  } catch {
    return undefined;
  }
}
