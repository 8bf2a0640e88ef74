import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { ALGORITHMS, rawToDer, type KeyAlgorithm } from '@cosignkit/core';

// Node signs messages only (it always hashes), but cosign and the KMS plugin hand us digests. ECDSA over a
// given digest needs the group order and the curve point k·G; the point comes from OpenSSL (an ephemeral
// key pair: its private scalar is k, its public x is (k·G).x), so only scalar arithmetic mod n is done here,
// blinded with a random factor so timing does not follow k or d.
const ORDERS: Partial<Record<KeyAlgorithm, bigint>> = {
  'ecdsa-p256-sha256': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  'ecdsa-p384-sha384': 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
};

/** The private scalar of an EC key, for signDigestEcdsa. Keep it no longer than the key itself. */
export function ecPrivateScalar(key: KeyObject): bigint {
  const { d } = key.export({ format: 'jwk' });
  if (!d) throw new Error('not an EC private key');
  return toBigInt(Buffer.from(d, 'base64url'));
}

/** An ASN.1 DER ECDSA signature of `digest` (already checked to have the curve's length). */
export function signDigestEcdsa(algorithm: KeyAlgorithm, d: bigint, digest: Uint8Array): Uint8Array {
  const n = ORDERS[algorithm];
  const facts = ALGORITHMS[algorithm];
  if (n === undefined || facts.coordinateLength === undefined) throw new Error(`${algorithm} is not ECDSA`);
  const size = facts.coordinateLength;
  const z = toBigInt(digest.subarray(0, size)) % n;
  for (;;) {
    const jwk = generateKeyPairSync('ec', { namedCurve: facts.namedCurve! }).privateKey.export({ format: 'jwk' });
    const k = toBigInt(Buffer.from(jwk.d!, 'base64url'));
    const r = toBigInt(Buffer.from(jwk.x!, 'base64url')) % n;
    if (r === 0n) continue;
    const b = (toBigInt(randomBytes(size + 16)) % (n - 1n)) + 1n;
    // s = k⁻¹(z + r·d) = (k·b)⁻¹ · (b·z + b·r·d)
    const kbInverse = modPow((k * b) % n, n - 2n, n);
    const s = (kbInverse * ((b * z + ((b * r) % n) * d) % n)) % n;
    if (s === 0n) continue;
    return rawToDer(Buffer.concat([toBytes(r, size), toBytes(s, size)]));
  }
}

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function toBytes(value: bigint, size: number): Buffer {
  return Buffer.from(value.toString(16).padStart(size * 2, '0'), 'hex');
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}
