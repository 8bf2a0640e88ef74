import { createHash, generateKeyPairSync, verify } from 'node:crypto';
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
  it('refuses a digest of the wrong length', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    await expect(signEcdsaDigest(privateKey, 'ecdsa-p256-sha256', new Uint8Array(31))).rejects.toMatchObject({
      code: 'DIGEST_LENGTH',
    });
  });
});
