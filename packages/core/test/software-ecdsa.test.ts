import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { describe, expect, it } from 'vitest';
import { signEcdsaDigest } from '../src/keys/software-ecdsa.js';

describe('signEcdsaDigest', () => {
  for (const [algorithm, curve, hash] of [
    ['ecdsa-p256-sha256', 'prime256v1', 'sha256'],
    ['ecdsa-p384-sha384', 'secp384r1', 'sha384'],
  ] as const) {
    it(`signs a ${hash} digest that node:crypto verifies over the message (${curve})`, async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const message = Buffer.from('cosignkit');
      const digest = createHash(hash).update(message).digest();
      const signature = await signEcdsaDigest(privateKey, algorithm, digest);
      expect(verify(hash, message, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
      expect(verify(hash, Buffer.from('other'), { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(false);
    });
  }
  it('signs 300 digests over several keys, each verified by node:crypto, in low-S form, with fresh nonces', async () => {
    const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      // Digests above the group order (all 0xff) must be reduced, not refused or mis-signed.
      const message = Buffer.from(`m${i}`);
      const digest = i === 0 ? Buffer.alloc(32, 0xff) : createHash('sha256').update(message).digest();
      const signature = await signEcdsaDigest(privateKey, 'ecdsa-p256-sha256', digest);
      if (i === 0) {
        // No known message hashes to all-ones: an independent verifier (noble) checks the bare digest.
        const spki = publicKey.export({ format: 'der', type: 'spki' });
        const point = new Uint8Array(spki.subarray(spki.length - 65));
        expect(p256.verify(signature, digest, point, { prehash: false, format: 'der' })).toBe(true);
        continue;
      }
      expect(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
      const { s } = derScalars(signature);
      expect(s <= n >> 1n).toBe(true);
      const hex = Buffer.from(signature).toString('hex');
      expect(seen.has(hex)).toBe(false);
      seen.add(hex);
    }
  });

  it('never uses a nonce twice: one key signs one digest 100 times, each r new and each signature valid', async () => {
    // Nonces are made ahead in batches (NoncePool): a nonce handed out twice would give the key away.
    for (const [algorithm, curve, hash] of [
      ['ecdsa-p256-sha256', 'prime256v1', 'sha256'],
      ['ecdsa-p384-sha384', 'secp384r1', 'sha384'],
    ] as const) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const message = Buffer.from('one message');
      const digest = createHash(hash).update(message).digest();
      const rs = new Set<bigint>();
      const signatures = await Promise.all(
        Array.from({ length: 100 }, () => signEcdsaDigest(privateKey, algorithm, digest)),
      );
      for (const signature of signatures) {
        expect(verify(hash, message, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
        rs.add(derScalars(signature).r);
      }
      expect(rs.size).toBe(100);
    }
  });

  it('refuses a digest of the wrong length', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    await expect(signEcdsaDigest(privateKey, 'ecdsa-p256-sha256', new Uint8Array(31))).rejects.toMatchObject({
      code: 'DIGEST_LENGTH',
    });
  });
});

/** r and s of a DER ECDSA signature (SEQUENCE of two INTEGERs, short form lengths). */
function derScalars(der: Uint8Array): { r: bigint; s: bigint } {
  const b = Buffer.from(der);
  let at = 2;
  const read = (): bigint => {
    const len = b[at + 1]!;
    const value = BigInt(`0x${b.subarray(at + 2, at + 2 + len).toString('hex')}`);
    at += 2 + len;
    return value;
  };
  return { r: read(), s: read() };
}
