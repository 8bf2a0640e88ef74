import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { COSIGN_KEY_LABEL, decryptCosignKey, encryptCosignKey } from '../src/index.js';
import { fixture, rejectsWith } from './helpers.js';

const spki = (key: KeyObject): string =>
  (key.type === 'public' ? key : createPublicKey(key)).export({ type: 'spki', format: 'pem' }).toString();

function envelopeOf(pem: string): Record<string, any> {
  const body = pem
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .join('');
  return JSON.parse(Buffer.from(body, 'base64').toString('utf8'));
}

function pemOf(envelope: unknown, label = COSIGN_KEY_LABEL): string {
  const lines = Buffer.from(JSON.stringify(envelope))
    .toString('base64')
    .match(/.{1,64}/g)!;
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

describe('cosign key format: interop vectors from cosign', () => {
  it('loads cosign-labeled.key (legacy label, N=32768) with password "hello"; its public key equals the .pub', async () => {
    const pem = await readFile(fixture('cosign-labeled.key'), 'utf8');
    const { privateKey, algorithm } = await decryptCosignKey(pem, 'hello');
    expect(algorithm).toBe('ecdsa-p256-sha256');
    expect(spki(privateKey)).toBe(await readFile(fixture('cosign-labeled.pub'), 'utf8'));
  });

  it('refuses the SEC1 plaintext vector with KEY_UNSUPPORTED naming the cause, as cosign does', async () => {
    const pem = await readFile(fixture('cosign-labeled-sec1.key'), 'utf8');
    const error = await rejectsWith(decryptCosignKey(pem, 'hello'), 'KEY_UNSUPPORTED');
    expect(error.message).toMatch(/SEC1/);
    expect(error.message).toMatch(/PKCS#8/);
  });

  it('says PASSWORD_INCORRECT for a wrong password', async () => {
    const pem = await readFile(fixture('cosign-labeled.key'), 'utf8');
    const error = await rejectsWith(decryptCosignKey(pem, 'hellO'), 'PASSWORD_INCORRECT');
    expect(error.message).not.toContain('hellO');
  });
});

describe('cosign key format: writing', () => {
  it('writes the label, 64-character lines and the JSON fields in cosign order, with N=65536', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = await encryptCosignKey(privateKey, 'pw');
    const lines = pem.split('\n');
    expect(lines[0]).toBe(`-----BEGIN ${COSIGN_KEY_LABEL}-----`);
    expect(pem.endsWith(`-----END ${COSIGN_KEY_LABEL}-----\n`)).toBe(true);
    const body = lines.slice(1, -2);
    for (const line of body.slice(0, -1)) expect(line).toHaveLength(64);
    expect(body.at(-1)!.length).toBeLessThanOrEqual(64);
    const json = Buffer.from(body.join(''), 'base64').toString('utf8');
    expect(json).toMatch(
      /^\{"kdf":\{"name":"scrypt","params":\{"N":65536,"r":8,"p":1\},"salt":"[A-Za-z0-9+/]{43}="\},"cipher":\{"name":"nacl\/secretbox","nonce":"[A-Za-z0-9+/]{32}"\},"ciphertext":"[A-Za-z0-9+/=]+"\}$/,
    );
    const e = envelopeOf(pem);
    expect(Buffer.from(e.kdf.salt, 'base64')).toHaveLength(32);
    expect(Buffer.from(e.cipher.nonce, 'base64')).toHaveLength(24);
    // tag (16) + PKCS#8 DER of a P-256 key (138 bytes, as in cosign's vector)
    expect(Buffer.from(e.ciphertext, 'base64')).toHaveLength(16 + 138);
  });

  it.each([
    ['ecdsa-p256-sha256', () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' })],
    ['ecdsa-p384-sha384', () => generateKeyPairSync('ec', { namedCurve: 'secp384r1' })],
    ['ed25519', () => generateKeyPairSync('ed25519')],
  ] as const)('round-trips a %s key (empty password allowed)', async (algorithm, make) => {
    const { privateKey, publicKey } = make();
    const pem = await encryptCosignKey(privateKey, '');
    const decrypted = await decryptCosignKey(pem, '');
    expect(decrypted.algorithm).toBe(algorithm);
    expect(spki(decrypted.privateKey)).toBe(spki(publicKey));
    await rejectsWith(decryptCosignKey(pem, 'not-empty'), 'PASSWORD_INCORRECT');
  });

  it('refuses to encrypt RSA and P-521 keys', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    await rejectsWith(encryptCosignKey(rsa, 'pw'), 'ALGORITHM_UNSUPPORTED');
    const p521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).privateKey;
    await rejectsWith(encryptCosignKey(p521, 'pw'), 'ALGORITHM_UNSUPPORTED');
  });
});

describe('cosign key format: damaged and unsupported files', () => {
  const vector = () => readFile(fixture('cosign-labeled.key'), 'utf8');

  it('KEY_MALFORMED for a truncated PEM (no END line)', async () => {
    const pem = await vector();
    await rejectsWith(decryptCosignKey(pem.slice(0, pem.length / 2), 'hello'), 'KEY_MALFORMED');
  });

  it('KEY_MALFORMED for a PEM whose body lost its last lines (truncated JSON)', async () => {
    const lines = (await vector()).trimEnd().split('\n');
    const cut = [...lines.slice(0, 4), lines.at(-1)!].join('\n');
    await rejectsWith(decryptCosignKey(cut, 'hello'), 'KEY_MALFORMED');
  });

  it('KEY_MALFORMED for corrupt base64 in the PEM body', async () => {
    const lines = (await vector()).split('\n');
    lines[2] = `${lines[2]!.slice(0, 10)}*!${lines[2]!.slice(12)}`;
    await rejectsWith(decryptCosignKey(lines.join('\n'), 'hello'), 'KEY_MALFORMED');
  });

  it('KEY_MALFORMED for JSON without the expected fields, or with a bad nonce', async () => {
    await rejectsWith(decryptCosignKey(pemOf({ kdf: {} }), 'hello'), 'KEY_MALFORMED');
    const e = envelopeOf(await vector());
    e.cipher.nonce = Buffer.alloc(12).toString('base64');
    await rejectsWith(decryptCosignKey(pemOf(e), 'hello'), 'KEY_MALFORMED');
    await rejectsWith(decryptCosignKey('', 'hello'), 'KEY_MALFORMED');
  });

  it('PASSWORD_INCORRECT when the ciphertext was altered (authentication fails)', async () => {
    const e = envelopeOf(await vector());
    const ct = Buffer.from(e.ciphertext, 'base64');
    ct[40]! ^= 1;
    e.ciphertext = ct.toString('base64');
    await rejectsWith(decryptCosignKey(pemOf(e), 'hello'), 'PASSWORD_INCORRECT');
  });

  it.each([
    [{ N: 16384, r: 8, p: 1 }],
    [{ N: 262144, r: 8, p: 1 }],
    [{ N: 65536, r: 16, p: 1 }],
    [{ N: 65536, r: 8, p: 2 }],
  ])('KEY_UNSUPPORTED "unsupported scrypt parameters" for %o', async (params) => {
    const e = envelopeOf(await vector());
    e.kdf.params = params;
    const error = await rejectsWith(decryptCosignKey(pemOf(e), 'hello'), 'KEY_UNSUPPORTED');
    expect(error.message).toContain('unsupported scrypt parameters');
  });

  it('KEY_UNSUPPORTED for another kdf or cipher, and for a plain PEM key', async () => {
    const e = envelopeOf(await vector());
    await rejectsWith(decryptCosignKey(pemOf({ ...e, kdf: { ...e.kdf, name: 'argon2' } }), 'hello'), 'KEY_UNSUPPORTED');
    await rejectsWith(
      decryptCosignKey(pemOf({ ...e, cipher: { ...e.cipher, name: 'aes' } }), 'hello'),
      'KEY_UNSUPPORTED',
    );
    const plain = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    await rejectsWith(decryptCosignKey(plain.toString(), 'hello'), 'KEY_UNSUPPORTED');
  });
});
