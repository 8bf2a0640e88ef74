import { createPublicKey, type KeyObject } from 'node:crypto';
import { CosignkitError, type KeyAlgorithm } from '@cosignkit/core';

/** CKA_EC_PARAMS values (DER OIDs of the named curves) for the algorithms this backend makes and uses. */
export const EC_PARAMS: Readonly<Partial<Record<KeyAlgorithm, Buffer>>> = {
  'ecdsa-p256-sha256': Buffer.from('06082a8648ce3d030107', 'hex'), // 1.2.840.10045.3.1.7 (secp256r1)
  'ecdsa-p384-sha384': Buffer.from('06052b81040022', 'hex'), // 1.3.132.0.34 (secp384r1)
};

const JWK_CURVES: Readonly<Partial<Record<KeyAlgorithm, { crv: string; size: number }>>> = {
  'ecdsa-p256-sha256': { crv: 'P-256', size: 32 },
  'ecdsa-p384-sha384': { crv: 'P-384', size: 48 },
};

/** The algorithm of an EC key from its CKA_EC_PARAMS, or ALGORITHM_UNSUPPORTED for other curves. */
export function algorithmOfParams(params: Buffer | undefined, what: string): KeyAlgorithm {
  for (const [algorithm, oid] of Object.entries(EC_PARAMS)) {
    if (params && oid.equals(params)) return algorithm as KeyAlgorithm;
  }
  throw new CosignkitError(
    'ALGORITHM_UNSUPPORTED',
    `${what} is on an unsupported EC curve (params ${params?.toString('hex') ?? 'missing'}); use P-256 or P-384`,
  );
}

/**
 * The public key from CKA_EC_POINT. PKCS#11 says the value is a DER OCTET STRING around the uncompressed point
 * 04‖X‖Y; some modules return the bare point, which is accepted too.
 */
export function publicKeyFromPoint(algorithm: KeyAlgorithm, ecPoint: Buffer | undefined, what: string): KeyObject {
  const curve = JWK_CURVES[algorithm];
  if (!curve) throw new CosignkitError('ALGORITHM_UNSUPPORTED', `${what}: ${algorithm} is not an EC algorithm`);
  const pointLength = 1 + 2 * curve.size;
  let point = ecPoint;
  if (point && point.length === pointLength + 2 && point[0] === 0x04 && point[1] === pointLength)
    point = point.subarray(2);
  if (!point || point.length !== pointLength || point[0] !== 0x04) {
    throw new CosignkitError('KEY_MALFORMED', `${what}: CKA_EC_POINT is not an uncompressed ${curve.crv} point`);
  }
  const b64 = (bytes: Buffer): string => bytes.toString('base64url');
  try {
    return createPublicKey({
      format: 'jwk',
      key: {
        kty: 'EC',
        crv: curve.crv,
        x: b64(point.subarray(1, 1 + curve.size)),
        y: b64(point.subarray(1 + curve.size)),
      },
    });
  } catch (error) {
    throw new CosignkitError('KEY_MALFORMED', `${what}: CKA_EC_POINT is not a point on ${curve.crv}`, { cause: error });
  }
}
