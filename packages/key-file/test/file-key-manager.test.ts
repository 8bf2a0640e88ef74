import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { copyFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyAlgorithm, SecretRequest } from '@cosignkit/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileKeyManager, encryptCosignKey } from '../src/index.js';
import { fixture, leftoverTempFiles, rejectsWith, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let requests: SecretRequest[];
let password: string;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  requests = [];
  password = 'pw';
});
afterEach(() => cleanup());

const manager = () =>
  new FileKeyManager(dir, {
    secrets: async (request) => {
      requests.push(request);
      return password;
    },
  });
const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('FileKeyManager: generate', () => {
  it('writes <label>.key (0600) and <label>.pub (0644, PKIX) with the "create" password', async () => {
    const info = await manager().generateKeyPair({ label: 'release' });
    expect(info).toMatchObject({ id: 'release', label: 'release', algorithm: 'ecdsa-p256-sha256', backend: 'file' });
    expect(info.ref).toBe(join(dir, 'release.key'));
    expect(await modeOf(join(dir, 'release.key'))).toBe(0o600);
    expect(await modeOf(join(dir, 'release.pub'))).toBe(0o644);
    expect(await readFile(join(dir, 'release.pub'), 'utf8')).toBe(info.publicKeyPem);
    expect(info.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(requests).toEqual([{ kind: 'password', purpose: 'create', subject: join(dir, 'release.key') }]);
    expect(await leftoverTempFiles(dir)).toEqual([]);
  });

  it('refuses to overwrite an existing .key or .pub (KEY_EXISTS) before asking for a password', async () => {
    await writeFile(join(dir, 'a.key'), 'mine');
    await writeFile(join(dir, 'b.pub'), 'mine');
    await rejectsWith(manager().generateKeyPair({ label: 'a' }), 'KEY_EXISTS');
    await rejectsWith(manager().generateKeyPair({ label: 'b' }), 'KEY_EXISTS');
    expect(requests).toEqual([]);
    expect(await readFile(join(dir, 'a.key'), 'utf8')).toBe('mine');
    expect((await readdir(dir)).sort()).toEqual(['a.key', 'b.pub']);
  });

  it('refuses ids that leave the directory and unknown algorithms', async () => {
    await rejectsWith(manager().generateKeyPair({ label: '../escape' }), 'USAGE');
    await rejectsWith(
      manager().generateKeyPair({ label: 'x', algorithm: 'rsa' as KeyAlgorithm }),
      'ALGORITHM_UNSUPPORTED',
    );
  });
});

describe('FileKeyManager: signing', () => {
  it.each([
    ['ecdsa-p256-sha256', 'sha256'],
    ['ecdsa-p384-sha384', 'sha384'],
  ] as const)('%s: signDigest gives DER ECDSA that verifies over the original message', async (algorithm, hash) => {
    const m = manager();
    await m.generateKeyPair({ label: 'k', algorithm });
    const publicKey = await m.getPublicKey('k');
    for (let i = 0; i < 20; i++) {
      const message = Buffer.from(`message ${i}`);
      const signature = await m.signDigest('k', createHash(hash).update(message).digest());
      expect(signature[0]).toBe(0x30);
      expect(verify(hash, message, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
      expect(verify(hash, Buffer.from('other'), publicKey, signature)).toBe(false);
      expect(await m.verifySignature('k', signature, message)).toBe(true);
    }
    const viaMessage = await m.signMessage('k', Buffer.from('m'));
    expect(verify(hash, Buffer.from('m'), publicKey, viaMessage)).toBe(true);
  });

  it('P-256 message signer: streamed and one-shot (signOnce, reusable) signatures are DER and verify', async () => {
    const m = manager();
    await m.generateKeyPair({ label: 'k', algorithm: 'ecdsa-p256-sha256' });
    const publicKey = await m.getPublicKey('k');
    const signer = (await m.createMessageSigner('k'))!;
    signer.update(Buffer.from('part one, '));
    signer.update(Buffer.from('part two'));
    const streamed = signer.sign();
    expect(verify('sha256', Buffer.from('part one, part two'), publicKey, streamed)).toBe(true);
    const once = (await m.createMessageSigner('k'))!;
    for (const text of ['a', 'b', 'a longer message']) {
      const signature = once.signOnce!(Buffer.from(text));
      expect(signature[0]).toBe(0x30);
      expect(verify('sha256', Buffer.from(text), { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
      expect(verify('sha256', Buffer.from(`${text}!`), publicKey, signature)).toBe(false);
    }
    await m.generateKeyPair({ label: 'p384', algorithm: 'ecdsa-p384-sha384' });
    expect(await m.createMessageSigner('p384')).toBeUndefined();
  });

  it('ed25519: signMessage is pure Ed25519; signDigest is refused', async () => {
    const m = manager();
    await m.generateKeyPair({ label: 'ed', algorithm: 'ed25519' });
    const signature = await m.signMessage('ed', Buffer.from('hello'));
    expect(signature).toHaveLength(64);
    expect(verify(null, Buffer.from('hello'), await m.getPublicKey('ed'), signature)).toBe(true);
    expect(await m.verifySignature('ed', signature, Buffer.from('hello!'))).toBe(false);
    await rejectsWith(m.signDigest('ed', new Uint8Array(32)), 'NOT_SUPPORTED');
  });

  it('refuses a digest of the wrong length (DIGEST_LENGTH) without asking for a password', async () => {
    await manager().generateKeyPair({ label: 'k' });
    requests = [];
    await rejectsWith(manager().signDigest('k', new Uint8Array(48)), 'DIGEST_LENGTH');
    expect(requests).toEqual([]);
  });

  it('asks the "unlock" password once per key, and again after close()', async () => {
    await manager().generateKeyPair({ label: 'k' });
    requests = [];
    const m = manager();
    const digest = createHash('sha256').update('x').digest();
    await Promise.all([m.signDigest('k', digest), m.signDigest('k', digest), m.signMessage('k', digest)]);
    await m.signDigest('k', digest);
    expect(requests).toEqual([{ kind: 'password', purpose: 'unlock', subject: join(dir, 'k.key') }]);
    await m.close();
    await m.close();
    await m.signDigest('k', digest);
    expect(requests).toHaveLength(2);
  });

  it('prepare() decrypts ahead of signing: the password is asked then, and signing asks nothing more', async () => {
    await manager().generateKeyPair({ label: 'k' });
    requests = [];
    const m = manager();
    await m.prepare('k');
    expect(requests).toHaveLength(1);
    const digest = createHash('sha256').update('x').digest();
    await m.signDigest('k', digest);
    expect(requests).toHaveLength(1);
    password = 'wrong';
    await rejectsWith(manager().prepare('k'), 'PASSWORD_INCORRECT');
    password = 'pw';
  });

  it('PASSWORD_INCORRECT for a wrong password, which is not remembered', async () => {
    await manager().generateKeyPair({ label: 'k' });
    const m = manager();
    password = 'wrong';
    const error = await rejectsWith(m.signMessage('k', Buffer.from('x')), 'PASSWORD_INCORRECT');
    expect(error.message).not.toContain('wrong');
    password = 'pw';
    await m.signMessage('k', Buffer.from('x'));
  });

  it('honours an aborted signal', async () => {
    await manager().generateKeyPair({ label: 'k' });
    await rejectsWith(manager().signDigest('k', new Uint8Array(32), { signal: AbortSignal.abort() }), 'ABORTED');
  });
});

describe('FileKeyManager: public keys, listing, deletion', () => {
  it('reports the public key derived from the private key, never the .pub beside it', async () => {
    await copyFile(fixture('cosign-labeled.key'), join(dir, 'vector.key'));
    password = 'hello';
    const m = manager();
    const fromKey = await m.getPublicKeyPem('vector');
    expect(requests).toHaveLength(1);
    expect(fromKey).toBe(await readFile(fixture('cosign-labeled.pub'), 'utf8'));
    expect(await m.getPublicKeyFingerprint('vector')).toBe(
      createHash('sha256')
        .update((await m.getPublicKey('vector')).export({ type: 'spki', format: 'der' }))
        .digest('hex'),
    );
    expect(requests).toHaveLength(1);

    // `public-key --key vector.key > vector.pub`: the shell has already truncated the .pub.
    await writeFile(join(dir, 'vector.pub'), '');
    requests = [];
    expect(await manager().getPublicKeyPem('vector')).toBe(fromKey);

    // A .pub of another key is not reported as this key's.
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' });
    await writeFile(join(dir, 'vector.pub'), other);
    expect(await manager().getPublicKeyPem('vector')).toBe(fromKey);
  });

  it('answers the algorithm from the .pub without a password', async () => {
    await copyFile(fixture('cosign-labeled.key'), join(dir, 'vector.key'));
    await copyFile(fixture('cosign-labeled.pub'), join(dir, 'vector.pub'));
    expect(await manager().getAlgorithm('vector')).toBe('ecdsa-p256-sha256');
    expect(requests).toEqual([]);
  });

  it('refuses the SEC1 vector with KEY_UNSUPPORTED', async () => {
    await copyFile(fixture('cosign-labeled-sec1.key'), join(dir, 'sec1.key'));
    password = 'hello';
    await rejectsWith(manager().signMessage('sec1', Buffer.from('x')), 'KEY_UNSUPPORTED');
  });

  it('lists every *.key from the .pub beside it, never asking for a password; one without a .pub is a warning', async () => {
    const m = manager();
    const a = await m.generateKeyPair({ label: 'a', algorithm: 'ecdsa-p384-sha384' });
    const { privateKey } = generateKeyPairSync('ed25519');
    await writeFile(join(dir, 'b.key'), await encryptCosignKey(privateKey, 'pw'), { mode: 0o600 });
    await writeFile(join(dir, 'notes.txt'), 'not a key');
    requests = [];
    const warnings: string[] = [];
    const lister = new FileKeyManager(dir, {
      secrets: async (request) => {
        requests.push(request);
        return password;
      },
      logger: { debug: () => undefined, info: () => undefined, warn: (message) => void warnings.push(message) },
    });
    const list = await lister.listKeys();
    expect(list).toEqual([a]);
    expect(requests).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`not listing ${join(dir, 'b.key')}: it has no b.pub beside it`);
    // Once a key is unlocked in this manager (it signed), its public key is known without a .pub.
    await lister.signMessage('b', Buffer.from('x'));
    expect((await lister.listKeys()).map((k) => [k.id, k.algorithm])).toEqual([
      ['a', 'ecdsa-p384-sha384'],
      ['b', 'ed25519'],
    ]);
  });

  it('lists nothing in a directory that does not exist yet', async () => {
    expect(await new FileKeyManager(join(dir, 'none'), { secrets: async () => 'pw' }).listKeys()).toEqual([]);
  });

  it('deleteKey removes both files; an unknown id is KEY_NOT_FOUND', async () => {
    const m = manager();
    await m.generateKeyPair({ label: 'gone' });
    await m.deleteKey('gone');
    expect(await readdir(dir)).toEqual([]);
    await rejectsWith(m.deleteKey('gone'), 'KEY_NOT_FOUND');
    await rejectsWith(m.getPublicKey('gone'), 'KEY_NOT_FOUND');
    await rejectsWith(m.signMessage('gone', Buffer.from('x')), 'KEY_NOT_FOUND');
  });

  it('refuses key ids that would leave the store directory', async () => {
    await rejectsWith(manager().getPublicKey('../outside'), 'USAGE');
    await rejectsWith(manager().signMessage('/etc/passwd', Buffer.from('x')), 'USAGE');
    await rejectsWith(manager().deleteKey('a/b'), 'USAGE');
  });

  it('opens a key file without the .key extension, as cosign allows (--key signing-key.pem)', async () => {
    await copyFile(fixture('cosign-labeled.key'), join(dir, 'signing-key.pem'));
    password = 'hello';
    const m = manager();
    const signature = await m.signMessage('signing-key.pem', Buffer.from('x'));
    expect(verify('sha256', Buffer.from('x'), await readFile(fixture('cosign-labeled.pub'), 'utf8'), signature)).toBe(
      true,
    );
  });
});
