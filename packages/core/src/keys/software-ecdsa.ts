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
export async function signEcdsaDigest(
  privateKey: KeyObject,
  algorithm: KeyAlgorithm,
  digest: Uint8Array,
): Promise<Uint8Array> {
  assertDigestLength(algorithm, digest);
  const curve = await curveFor(algorithm);
  const jwk = privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string') throw new CosignkitError('KEY_MALFORMED', 'the private key has no private scalar');
  const scalar = Buffer.from(jwk.d, 'base64url');
  try {
    return curve.sign(digest, scalar, { prehash: false, format: 'der' });
  } finally {
    scalar.fill(0);
  }
}

type NistCurve = typeof import('@noble/curves/nist.js').p256;
const signaturesSoFar = new Map<NistCurve, number>();

/**
 * noble builds a base-point table on first use (~50 ms), which pays off only over many signatures: a
 * one-shot CLI run signs once. So the first signature per curve goes table-free (~15 ms), the second builds it.
 */
async function curveFor(algorithm: KeyAlgorithm): Promise<NistCurve> {
  const curve = await loadCurve(algorithm);
  const count = signaturesSoFar.get(curve) ?? 0;
  if (count === 0) curve.Point.BASE.precompute(1);
  else if (count === 1) curve.Point.BASE.precompute(6);
  signaturesSoFar.set(curve, Math.min(count + 1, 2));
  return curve;
}

async function loadCurve(algorithm: KeyAlgorithm): Promise<NistCurve> {
  const { p256, p384 } = await import('@noble/curves/nist.js');
  const curve = algorithm === 'ecdsa-p256-sha256' ? p256 : algorithm === 'ecdsa-p384-sha384' ? p384 : undefined;
  if (!curve) throw new CosignkitError('NOT_SUPPORTED', `${algorithm} keys sign messages, not digests`);
  return curve;
}

/**
 * Loads and warms the signer ahead of the first signature (KeyManager.prepare), e.g. while a key is being
 * decrypted in the thread pool: one throwaway signature with the fixed, public scalar 1 compiles the code.
 */
export async function prepareEcdsaDigestSigner(algorithm: KeyAlgorithm): Promise<void> {
  if (algorithm === 'ed25519') return;
  const curve = await loadCurve(algorithm);
  if (!signaturesSoFar.has(curve)) curve.Point.BASE.precompute(1);
  const length = algorithm === 'ecdsa-p256-sha256' ? 32 : 48;
  const one = new Uint8Array(length);
  one[length - 1] = 1;
  curve.sign(new Uint8Array(length), one, { prehash: false });
}
