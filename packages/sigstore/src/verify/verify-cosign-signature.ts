import { createHash } from 'node:crypto';
import { CosignkitError } from '@cosignkit/core';
import { cosignLegacyBundle, type CosignLegacyMaterial } from './cosign-legacy-bundle.js';
import { verifyBundle, type KeylessVerification, type VerifyBundleOptions } from './verify-bundle.js';

/** The annotations cosign 2.x puts on a keyless `.sig`/`.att` layer (pkg/oci/static). */
export const COSIGN_LAYER_ANNOTATIONS = {
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  bundle: 'dev.sigstore.cosign/bundle',
  rfc3161Timestamp: 'dev.sigstore.cosign/rfc3161timestamp',
} as const;

/** What was signed: a `.sig` layer's payload and raw signature, or an `.att` layer's DSSE envelope. */
export type CosignSignedContent =
  | { kind: 'message'; payload: Buffer; signature: Buffer }
  | { kind: 'dsse'; envelope: Extract<CosignLegacyMaterial['content'], { kind: 'dsse' }>['envelope'] };

/**
 * Verifies one keyless signature of cosign's legacy image layout: the certificate, chain, Rekor bundle
 * (SET) and RFC 3161 timestamp come from the layer's annotations and are verified like a v0.1 bundle.
 * A layer without a certificate was signed with a key: a failed keyless verification (exit 2), not
 * malformed input. Unreadable annotations throw BUNDLE_MALFORMED.
 */
export function verifyCosignLayerSignature(
  signed: CosignSignedContent,
  annotations: Record<string, string>,
  options: Omit<VerifyBundleOptions, 'artifact'>,
): KeylessVerification {
  const certificate = annotations[COSIGN_LAYER_ANNOTATIONS.certificate];
  if (!certificate) {
    return {
      verified: false,
      engine: 'native',
      artifact: { digest: { algorithm: 'sha256', hex: '' } },
      signatures: [{ verified: false }],
      failures: [
        {
          code: 'VERIFICATION_FAILED',
          message: 'no certificate on the signature (signed with a key: verify with --key)',
        },
      ],
      warnings: [],
    };
  }
  const json = (name: keyof typeof COSIGN_LAYER_ANNOTATIONS): unknown => {
    const text = annotations[COSIGN_LAYER_ANNOTATIONS[name]];
    if (text === undefined || text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new CosignkitError('BUNDLE_MALFORMED', `the ${COSIGN_LAYER_ANNOTATIONS[name]} annotation is not JSON`, {
        cause: error,
      });
    }
  };
  const rekorBundle = json('bundle');
  let rfc3161Timestamp = json('rfc3161Timestamp');
  const warnings: string[] = [];
  if (signed.kind === 'dsse' && rfc3161Timestamp !== undefined) {
    // cosign stamps an attestation's whole envelope, not its signature (VerifyRFC3161Timestamp falls back to
    // the payload when Base64Signature is empty); the bundle model has no place for that imprint, so the
    // timestamp is left out and the Rekor entry (or, ignoring it, the current time) dates the certificate.
    const line = 'the RFC 3161 timestamp of an attestation layer is not used (it stamps the envelope, not a signature)';
    warnings.push(line);
    options.logger?.warn(line);
    rfc3161Timestamp = undefined;
  }
  const bundle = cosignLegacyBundle({
    certificate,
    ...(annotations[COSIGN_LAYER_ANNOTATIONS.chain] ? { chain: annotations[COSIGN_LAYER_ANNOTATIONS.chain] } : {}),
    content:
      signed.kind === 'message'
        ? {
            kind: 'message',
            sha256: createHash('sha256').update(signed.payload).digest(),
            signature: signed.signature,
          }
        : { kind: 'dsse', envelope: signed.envelope },
    ...(rekorBundle !== undefined ? { rekorBundle } : {}),
    ...(rfc3161Timestamp !== undefined ? { rfc3161Timestamp } : {}),
  });
  const result = verifyBundle(bundle, {
    ...options,
    ...(signed.kind === 'message' ? { artifact: { bytes: signed.payload } } : {}),
  });
  return warnings.length > 0 ? { ...result, warnings: [...warnings, ...result.warnings] } : result;
}
