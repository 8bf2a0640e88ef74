import type { KeyObject } from 'node:crypto';
import type { KeyAlgorithm } from '../contracts/key-manager.js';
import { CosignkitError } from '../errors.js';
import { assertDigestLength } from './algorithms.js';

/**
 * ECDSA over a digest the caller already computed, for software keys (files, keyring). node:crypto cannot
 * do this: `sign(null, …)` hashes its input once more. @noble/curves is audited, constant-time by design,
 * and uses RFC 6979 deterministic nonces, so no home-made scalar arithmetic touches the private key.
 * Loaded on first use: most commands never sign a digest.
 */
export async function signEcdsaDigest(privateKey: KeyObject, algorithm: KeyAlgorithm, digest: Uint8Array): Promise<Uint8Array> {
  assertDigestLength(algorithm, digest);
  const { p256, p384 } = await import('@noble/curves/nist.js');
  const curve = algorithm === 'ecdsa-p256-sha256' ? p256 : algorithm === 'ecdsa-p384-sha384' ? p384 : undefined;
  if (!curve) throw new CosignkitError('NOT_SUPPORTED', `${algorithm} keys sign messages, not digests`);
  const jwk = privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string') throw new CosignkitError('KEY_MALFORMED', 'the private key has no private scalar');
  const scalar = Buffer.from(jwk.d, 'base64url');
  try {
    return curve.sign(digest, scalar, { prehash: false, format: 'der' });
  } finally {
    scalar.fill(0);
  }
}
