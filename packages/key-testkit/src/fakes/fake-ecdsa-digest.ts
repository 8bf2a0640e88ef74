import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { ALGORITHMS, rawToDer, type KeyAlgorithm } from '@cosignkit/core';

// node:crypto signs messages only (it always hashes); the fake needs ECDSA over a given digest. The point
// k·G comes from OpenSSL (an ephemeral key pair: its d is k, its x is (k·G).x); only arithmetic mod n is
// done here. Test code: not constant-time, and it need not be.
const ORDERS: Partial<Record<KeyAlgorithm, bigint>> = {
  'ecdsa-p256-sha256': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  'ecdsa-p384-sha384':
    0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
};

export function fakeSignDigest(algorithm: KeyAlgorithm, privateKey: KeyObject, digest: Uint8Array): Uint8Array {
  const n = ORDERS[algorithm]!;
  const facts = ALGORITHMS[algorithm];
  const size = facts.coordinateLength!;
  const d = toBigInt(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'));
  const z = toBigInt(digest) % n;
  for (;;) {
    const jwk = generateKeyPairSync('ec', { namedCurve: facts.namedCurve! }).privateKey.export({ format: 'jwk' });
    const k = toBigInt(Buffer.from(jwk.d!, 'base64url'));
    const r = toBigInt(Buffer.from(jwk.x!, 'base64url')) % n;
    const s = (modPow(k, n - 2n, n) * ((z + r * d) % n)) % n;
    if (r === 0n || s === 0n) continue;
    return rawToDer(Buffer.concat([toBytes(r, size), toBytes(s, size)]));
  }
}

const toBigInt = (bytes: Uint8Array): bigint =>
  bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
const toBytes = (value: bigint, size: number): Buffer => Buffer.from(value.toString(16).padStart(size * 2, '0'), 'hex');

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}
