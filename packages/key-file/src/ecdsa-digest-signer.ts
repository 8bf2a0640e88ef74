import { createECDH, randomBytes, type KeyObject } from 'node:crypto';
import { ALGORITHMS, CosignkitError, rawToDer, type KeyAlgorithm } from '@cosignkit/core';

/** Group orders of the two curves (SEC 2 / FIPS 186-4). */
const ORDERS: Readonly<Record<string, bigint>> = {
  prime256v1: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  secp384r1:
    0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
};

/**
 * ECDSA over a digest the caller already computed. node:crypto has no pre-hashed ECDSA: `sign(null, …)`
 * hashes its input with SHA-256 once more. So the point multiplication k·G runs in OpenSSL (through ECDH,
 * which computes k·G for a private scalar k), and only the scalar arithmetic mod n runs here, on BigInt, with
 * a fresh random nonce per signature and a random blinding factor over the private scalar.
 * Returns an ASN.1 DER signature, as cosign's (Go crypto/ecdsa) `SignASN1`.
 */
export function signEcdsaDigest(privateKey: KeyObject, algorithm: KeyAlgorithm, digest: Uint8Array): Uint8Array {
  const facts = ALGORITHMS[algorithm];
  const n = facts.namedCurve ? ORDERS[facts.namedCurve] : undefined;
  if (!n || !facts.coordinateLength || facts.digestLength !== digest.length) {
    throw new CosignkitError('INTERNAL', `signEcdsaDigest called for ${algorithm} with a ${digest.length}-byte digest`);
  }
  const size = facts.coordinateLength;
  const jwk = privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string') throw new CosignkitError('INTERNAL', 'the private key has no scalar');
  const d = toBigInt(Buffer.from(jwk.d, 'base64url'));
  // The digest length equals the order's byte length for both curves, so bits2int is a plain conversion.
  const z = toBigInt(digest) % n;
  const ecdh = createECDH(facts.namedCurve!);
  for (;;) {
    const k = randomScalar(n, size);
    ecdh.setPrivateKey(toBytes(k, size));
    const point = ecdh.getPublicKey(); // 04 ‖ X ‖ Y
    const r = toBigInt(point.subarray(1, 1 + size)) % n;
    if (r === 0n) continue;
    const b = randomScalar(n, size);
    // s = k⁻¹(z + r·d) = (b·k)⁻¹(b·z + r·(b·d)): d only ever meets a random multiplier.
    const s = (inverse((b * k) % n, n) * ((b * z + r * ((b * d) % n)) % n)) % n;
    if (s === 0n) continue;
    return rawToDer(Buffer.concat([toBytes(r, size), toBytes(s, size)]));
  }
}

/** A uniform scalar in [1, n-1] (FIPS 186-4 B.5.1: 64 extra random bits, then reduce). */
function randomScalar(n: bigint, size: number): bigint {
  return (toBigInt(randomBytes(size + 8)) % (n - 1n)) + 1n;
}

/** a⁻¹ mod n for prime n (Fermat). */
function inverse(a: bigint, n: bigint): bigint {
  let result = 1n;
  let base = a % n;
  let e = n - 2n;
  while (e > 0n) {
    if (e & 1n) result = (result * base) % n;
    base = (base * base) % n;
    e >>= 1n;
  }
  return result;
}

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function toBytes(value: bigint, size: number): Buffer {
  return Buffer.from(value.toString(16).padStart(size * 2, '0'), 'hex');
}
