import { createHash, randomBytes, verify } from 'node:crypto';
import { AsyncEntry } from '@napi-rs/keyring';
import { BackendRegistry, CosignkitError, parseKeyRef, silentLogger, type KeyManager } from '@cosignkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';
import { requirePrivateSecretService } from './secret-service.js';

requirePrivateSecretService();

const context = { options: {}, secrets: async () => '', logger: silentLogger, env: process.env };
const opened: KeyManager[] = [];
const open = async (ref: string): Promise<KeyManager> => {
  const manager = await backend.open(parseKeyRef(ref), context);
  opened.push(manager);
  return manager;
};
const freshService = (): string => `cosignkit-manager-${randomBytes(4).toString('hex')}`;
/** Reads or writes the keyring behind the manager's back, as another program would. */
const raw = (service: string, account: string): AsyncEntry =>
  new AsyncEntry(service, account, { linux: { store: 'secret-service' } });

async function codeOf(action: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await action();
  } catch (error) {
    return CosignkitError.isInstance(error) ? error.code : `not a CosignkitError: ${String(error)}`;
  }
  return undefined;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((m) => m.close()));
});

describe('KeyringKeyManager', () => {
  it('stores each key as a PKCS#8 PEM string in its own entry, and lists it from the index in any later manager', async () => {
    const service = freshService();
    const writer = await open(`keyring:${service}/`);
    const info = await writer.generateKeyPair({ algorithm: 'ecdsa-p384-sha384', label: 'release' });
    expect(info.ref).toBe(`keyring:${service}/release`);

    const stored = await raw(service, 'release').getPassword();
    expect(stored).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const index = JSON.parse((await raw(service, '.cosignkit-index').getPassword())!);
    expect(index.keys.map((k: { account: string }) => k.account)).toEqual(['release']);

    const reader = await open(`keyring:${service}/release`);
    expect(await reader.listKeys()).toEqual([info]);
    expect(await (await open(`keyring:${freshService()}/`)).listKeys()).toEqual([]);
  });

  it('lists, through keyring:, the keys of every service cosignkit made keys in (issue 17)', async () => {
    const [a, b] = [freshService(), freshService()];
    const inA = await (await open(`keyring:${a}/`)).generateKeyPair({ label: 'k1' });
    const inB = await (await open(`keyring:${b}/k2`)).generateKeyPair({ label: 'k2', algorithm: 'ed25519' });
    const services = JSON.parse((await raw('cosignkit', '.cosignkit-services').getPassword())!);
    expect(services.services).toEqual(expect.arrayContaining([a, b]));
    const all = await (await open('keyring:')).listKeys();
    expect(all).toEqual(expect.arrayContaining([inA, inB]));
    // A named service still lists only its own keys.
    expect(await (await open(`keyring:${a}/`)).listKeys()).toEqual([inA]);
    // The bookkeeping account is no key: it cannot be named in a reference.
    expect(await codeOf(() => open('keyring:cosignkit/.cosignkit-services'))).toBe('KEY_REF_INVALID');
  });

  it('keeps every key in the index when several are generated at once', async () => {
    const manager = await open(`keyring:${freshService()}/`);
    const labels = Array.from({ length: 6 }, (_, i) => `k${i}`);
    await Promise.all(labels.map((label) => manager.generateKeyPair({ label, algorithm: 'ed25519' })));
    expect((await manager.listKeys()).map((k) => k.id)).toEqual(labels);
  });

  it('removes the key and its index line on delete, and the index itself with the last key', async () => {
    const service = freshService();
    const manager = await open(`keyring:${service}/`);
    await manager.generateKeyPair({ label: 'a' });
    await manager.generateKeyPair({ label: 'b' });
    await manager.deleteKey('a');
    expect(await raw(service, 'a').getPassword()).toBeNull();
    expect((await manager.listKeys()).map((k) => k.id)).toEqual(['b']);
    await manager.deleteKey('b');
    expect(await raw(service, '.cosignkit-index').getPassword()).toBeNull();
    expect(await codeOf(() => manager.deleteKey('b'))).toBe('KEY_NOT_FOUND');
  });

  it('holds a key in memory after first use until close(), then reads the keyring again', async () => {
    const service = freshService();
    const manager = await open(`keyring:${service}/`);
    await manager.generateKeyPair({ label: 'k' });
    await raw(service, 'k').deleteCredential(); // gone from the keyring, still in this manager
    const digest = createHash('sha256').update('m').digest();
    const signature = await manager.signDigest('k', digest);
    expect(verify('sha256', Buffer.from('m'), await manager.getPublicKey('k'), signature)).toBe(true);
    await manager.close();
    expect(await codeOf(() => manager.signDigest('k', digest))).toBe('USAGE');
    const again = await open(`keyring:${service}/k`);
    expect(await codeOf(() => again.signDigest('k', digest))).toBe('KEY_NOT_FOUND');
  });

  it('refuses entries it did not write (KEY_MALFORMED) and a damaged index', async () => {
    const service = freshService();
    await raw(service, 'foreign').setPassword('hunter2');
    await raw(service, '.cosignkit-index').setPassword('{"version":1');
    const manager = await open(`keyring:${service}/`);
    expect(await codeOf(() => manager.getPublicKey('foreign'))).toBe('KEY_MALFORMED');
    expect(await codeOf(() => manager.listKeys())).toBe('KEY_MALFORMED');
  });

  it('refuses to overwrite an entry another program wrote (KEY_EXISTS)', async () => {
    const service = freshService();
    await raw(service, 'taken').setPassword('someone else');
    const manager = await open(`keyring:${service}/`);
    expect(await codeOf(() => manager.generateKeyPair({ label: 'taken' }))).toBe('KEY_EXISTS');
    expect(await raw(service, 'taken').getPassword()).toBe('someone else');
  });

  it('needs a name for a new key, and not the index account (USAGE)', async () => {
    const manager = await open(`keyring:${freshService()}/`);
    expect(await codeOf(() => manager.generateKeyPair())).toBe('USAGE');
    expect(await codeOf(() => manager.generateKeyPair({ label: '.cosignkit-index' }))).toBe('USAGE');
  });
});

describe('the backend registry', () => {
  it('opens one store per keyring service', async () => {
    const registry = new BackendRegistry().register(backend);
    try {
      const [a1, a2, b] = await Promise.all(
        ['keyring:svc-a/x', 'keyring:svc-a/y', 'keyring:svc-b/x'].map((ref) => registry.open(ref)),
      );
      expect(a1!.manager).toBe(a2!.manager);
      expect(a1!.manager).not.toBe(b!.manager);
      expect([a1!.keyId, a2!.keyId, b!.keyId]).toEqual(['x', 'y', 'x']);
    } finally {
      await registry.close();
    }
  });
});
