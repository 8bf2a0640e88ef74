import { CosignkitError } from '@cosignkit/core';

/**
 * cosign's "simple signing" payload, byte for byte as cosign marshals it (Go struct order, no spaces):
 * the signature covers exactly these bytes.
 */
export function simpleSigningPayload(
  dockerReference: string,
  manifestDigest: string,
  annotations?: Record<string, string>,
): Buffer {
  const optional = annotations && Object.keys(annotations).length > 0 ? sortKeys(annotations) : null;
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': manifestDigest },
        type: 'cosign container image signature',
      },
      optional,
    }),
  );
}

export interface SimpleSigning {
  dockerReference: string;
  manifestDigest: string;
  annotations: Record<string, unknown>;
}

export function parseSimpleSigning(bytes: Buffer): SimpleSigning {
  let value: {
    critical?: {
      identity?: { 'docker-reference'?: unknown };
      image?: { 'docker-manifest-digest'?: unknown };
      type?: unknown;
    };
    optional?: Record<string, unknown> | null;
  };
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new CosignkitError('SIGNATURE_MALFORMED', 'signature payload is not JSON', { cause: error });
  }
  const digest = value?.critical?.image?.['docker-manifest-digest'];
  const type = value?.critical?.type;
  if (typeof digest !== 'string' || type !== 'cosign container image signature') {
    throw new CosignkitError('SIGNATURE_MALFORMED', 'signature payload is not a cosign simple-signing payload');
  }
  const ref = value.critical?.identity?.['docker-reference'];
  return {
    dockerReference: typeof ref === 'string' ? ref : '',
    manifestDigest: digest,
    annotations: value.optional ?? {},
  };
}

/** Go marshals map keys sorted. */
function sortKeys(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
