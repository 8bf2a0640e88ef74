import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { decryptCosignKey, prestartKeyDerivation } from '../src/index.js';
import { fixture, rejectsWith } from './helpers.js';

const spkiOf = async (name: string) => readFile(fixture(name), 'utf8');
const pubOf = (key: Parameters<typeof createPublicKey>[0]) =>
  createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();

describe('scrypt started ahead of the decryption (CLI start-up)', () => {
  it("decrypts cosign's own key with the key derived ahead, and again without it", async () => {
    const pem = await readFile(fixture('cosign-labeled.key'), 'utf8');
    prestartKeyDerivation(pem, 'hello');
    const ahead = await decryptCosignKey(pem, 'hello');
    expect(pubOf(ahead.privateKey)).toBe(await spkiOf('cosign-labeled.pub'));
    // Taken once: the next decryption derives the key itself and gets the same key.
    const again = await decryptCosignKey(pem, 'hello');
    expect(pubOf(again.privateKey)).toBe(await spkiOf('cosign-labeled.pub'));
  });

  it('never lets a key derived from another password stand in for the one asked', async () => {
    const pem = await readFile(fixture('cosign-labeled.key'), 'utf8');
    prestartKeyDerivation(pem, 'not-the-password');
    const { privateKey } = await decryptCosignKey(pem, 'hello');
    expect(pubOf(privateKey)).toBe(await spkiOf('cosign-labeled.pub'));
    prestartKeyDerivation(pem, 'hello');
    await rejectsWith(decryptCosignKey(pem, 'wrong'), 'PASSWORD_INCORRECT');
  });

  it('ignores text that is not a cosign key, without throwing', () => {
    expect(() => prestartKeyDerivation('not a key', 'pw')).not.toThrow();
    expect(() =>
      prestartKeyDerivation('-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n!!\n-----END ', 'pw'),
    ).not.toThrow();
  });
});
