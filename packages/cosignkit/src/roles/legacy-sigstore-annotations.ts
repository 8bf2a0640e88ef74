import { X509Certificate } from 'node:crypto';
import { CosignkitError } from '@cosignkit/core';

/** The layer annotations cosign 2.x reads the keyless material of a legacy `.sig`/`.att` layer from. */
export const LEGACY_SIGSTORE_ANNOTATIONS = {
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  bundle: 'dev.sigstore.cosign/bundle',
  timestamp: 'dev.sigstore.cosign/rfc3161timestamp',
} as const;

/** The parts of a serialized v0.3 bundle (@sigstore/bundle's JSON) this file reads. */
export interface SerializedSigstoreBundle {
  verificationMaterial?: {
    certificate?: { rawBytes?: string };
    publicKey?: { hint?: string };
    tlogEntries?: {
      logIndex?: string;
      logId?: { keyId?: string };
      integratedTime?: string;
      inclusionPromise?: { signedEntryTimestamp?: string };
      canonicalizedBody?: string;
    }[];
    timestampVerificationData?: { rfc3161Timestamps?: { signedTimestamp?: string }[] };
  };
  messageSignature?: { signature?: string };
}

/**
 * Turns what a Sigstore bundle holds into cosign's legacy layer annotations, as `cosign sign` writes them
 * (pkg/oci/static: the leaf PEM, the chain PEM joined, the Rekor bundle as
 * `{"SignedEntryTimestamp", "Payload": {"body", "integratedTime", "logIndex", "logID"}}` in Go's field order,
 * and `{"SignedRFC3161Timestamp"}` when `withTimestamp`). A keyed log signature (S-4) has no certificate: only
 * the Rekor bundle is written, as cosign does for `sign --key … --tlog-upload`.
 */
export function legacySigstoreAnnotations(
  bundle: SerializedSigstoreBundle,
  chain: readonly string[],
  withTimestamp: boolean,
): Record<string, string> {
  const material = bundle.verificationMaterial ?? {};
  const out: Record<string, string> = {};
  const raw = material.certificate?.rawBytes;
  if (raw !== undefined) {
    out[LEGACY_SIGSTORE_ANNOTATIONS.certificate] = new X509Certificate(Buffer.from(raw, 'base64')).toString();
    out[LEGACY_SIGSTORE_ANNOTATIONS.chain] = chain.map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)).join('');
  }
  const entry = material.tlogEntries?.[0];
  if (entry) {
    const set = entry.inclusionPromise?.signedEntryTimestamp;
    // Without a SET cosign's offline check has nothing to verify: Rekor v1 always returns one.
    if (!set || !entry.canonicalizedBody || !entry.logId?.keyId)
      throw new CosignkitError('BACKEND_FAILURE', 'the Rekor entry has no signed entry timestamp to attach');
    out[LEGACY_SIGSTORE_ANNOTATIONS.bundle] = JSON.stringify({
      SignedEntryTimestamp: set,
      Payload: {
        body: entry.canonicalizedBody,
        integratedTime: Number(entry.integratedTime),
        logIndex: Number(entry.logIndex),
        logID: Buffer.from(entry.logId.keyId, 'base64').toString('hex'),
      },
    });
  }
  const timestamp = material.timestampVerificationData?.rfc3161Timestamps?.[0]?.signedTimestamp;
  if (withTimestamp && timestamp) {
    out[LEGACY_SIGSTORE_ANNOTATIONS.timestamp] = JSON.stringify({ SignedRFC3161Timestamp: timestamp });
  }
  return out;
}
