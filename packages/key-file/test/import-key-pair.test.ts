import { generateKeyPairSync, verify } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileKeyManager, decryptCosignKey, importKeyPair } from '../src/index.js';
import { fixture, leftoverTempFiles, rejectsWith, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('importKeyPair', () => {
  it.each([
    ['PKCS#8 P-256', 'ecdsa-p256-sha256', () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }), 'pkcs8'],
    ['SEC1 P-384', 'ecdsa-p384-sha384', () => generateKeyPairSync('ec', { namedCurve: 'secp384r1' }), 'sec1'],
    ['PKCS#8 Ed25519', 'ed25519', () => generateKeyPairSync('ed25519'), 'pkcs8'],
  ] as const)(
    'imports a %s PEM into <prefix>.key (0600, cosign format) + <prefix>.pub (0644)',
    async (_, algorithm, make, type) => {
      const { privateKey, publicKey } = make();
      const input = join(dir, 'plain.pem');
      await writeFile(input, privateKey.export({ type, format: 'pem' }));
      const prefix = join(dir, 'imported');
      const result = await importKeyPair({ input, outputPrefix: prefix, password: 'pw' });
      expect(result).toMatchObject({ keyPath: `${prefix}.key`, pubPath: `${prefix}.pub`, algorithm });
      expect((await stat(`${prefix}.key`)).mode & 0o777).toBe(0o600);
      expect((await stat(`${prefix}.pub`)).mode & 0o777).toBe(0o644);
      const expectedPub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      expect(await readFile(`${prefix}.pub`, 'utf8')).toBe(expectedPub);
      const keyPem = await readFile(`${prefix}.key`, 'utf8');
      expect(keyPem).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
      const decrypted = await decryptCosignKey(keyPem, 'pw');
      expect(decrypted.algorithm).toBe(algorithm);
      const m = new FileKeyManager(dir, { secrets: async () => 'pw' });
      const signature = await m.signMessage('imported', Buffer.from('data'));
      const hash = { 'ecdsa-p256-sha256': 'sha256', 'ecdsa-p384-sha384': 'sha384', ed25519: null }[algorithm];
      expect(verify(hash, Buffer.from('data'), publicKey, signature)).toBe(true);
    },
  );

  it('accepts an openssl-style file with EC PARAMETERS before the EC PRIVATE KEY', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const input = join(dir, 'openssl.pem');
    const params = '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n';
    await writeFile(input, params + privateKey.export({ type: 'sec1', format: 'pem' }).toString());
    const result = await importKeyPair({ input, outputPrefix: join(dir, 'k'), password: '' });
    expect(result.algorithm).toBe('ecdsa-p256-sha256');
  });

  it('refuses RSA keys (PKCS#1 and PKCS#8) with KEY_UNSUPPORTED, writing nothing', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    for (const type of ['pkcs1', 'pkcs8'] as const) {
      const input = join(dir, `rsa-${type}.pem`);
      await writeFile(input, privateKey.export({ type, format: 'pem' }));
      const error = await rejectsWith(
        importKeyPair({ input, outputPrefix: join(dir, 'out'), password: 'pw' }),
        'KEY_UNSUPPORTED',
      );
      expect(error.message).toMatch(/rsa/i);
    }
    expect((await readdir(dir)).sort()).toEqual(['rsa-pkcs1.pem', 'rsa-pkcs8.pem']);
  });

  it('refuses P-521, encrypted PKCS#8, an already-encrypted cosign key and garbage', async () => {
    const p521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).privateKey;
    await writeFile(join(dir, 'p521.pem'), p521.export({ type: 'pkcs8', format: 'pem' }));
    await rejectsWith(
      importKeyPair({ input: join(dir, 'p521.pem'), outputPrefix: join(dir, 'o'), password: '' }),
      'KEY_UNSUPPORTED',
    );
    await writeFile(
      join(dir, 'enc.pem'),
      p521.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }),
    );
    await rejectsWith(
      importKeyPair({ input: join(dir, 'enc.pem'), outputPrefix: join(dir, 'o'), password: '' }),
      'KEY_UNSUPPORTED',
    );
    await rejectsWith(
      importKeyPair({ input: fixture('cosign-labeled.key'), outputPrefix: join(dir, 'o'), password: '' }),
      'KEY_UNSUPPORTED',
    );
    await writeFile(join(dir, 'junk.pem'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    await rejectsWith(
      importKeyPair({ input: join(dir, 'junk.pem'), outputPrefix: join(dir, 'o'), password: '' }),
      'KEY_MALFORMED',
    );
    await rejectsWith(
      importKeyPair({ input: join(dir, 'missing.pem'), outputPrefix: join(dir, 'o'), password: '' }),
      'FILE_NOT_FOUND',
    );
    expect((await readdir(dir)).filter((n) => n.startsWith('o.'))).toEqual([]);
  });

  it('refuses to overwrite an existing <prefix>.key or <prefix>.pub', async () => {
    const input = join(dir, 'plain.pem');
    await writeFile(input, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(join(dir, 'taken.pub'), 'old');
    await rejectsWith(importKeyPair({ input, outputPrefix: join(dir, 'taken'), password: 'pw' }), 'KEY_EXISTS');
    expect(await readFile(join(dir, 'taken.pub'), 'utf8')).toBe('old');
    expect((await readdir(dir)).sort()).toEqual(['plain.pem', 'taken.pub']);
    expect(await leftoverTempFiles(dir)).toEqual([]);
  });
});
