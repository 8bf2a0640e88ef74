import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import {
  ALGORITHMS,
  CosignkitError,
  algorithmOfKey,
  fingerprintOf,
  publicKeyPem,
  signEcdsaDigest,
  silentLogger,
  throwIfAborted,
  type GenerateKeyOptions,
  type KeyAlgorithm,
  type KeyInfo,
  type KeyManager,
  type Logger,
  type SignOptions,
} from '@cosignkit/core';
import { parseKeyIndex, serializeKeyIndex, type IndexedKey } from './key-index.js';
import type { KeyringEntryStore } from './keyring-entry-store.js';
import { INDEX_ACCOUNT, SERVICES_ACCOUNT, formatKeyringRef, isReservedAccount } from './keyring-ref.js';
import { MAX_SERVICES, parseServiceIndex, serializeServiceIndex } from './service-index.js';

/** Where the list of services lives, and how to reach another service's keys (for listing them all). */
export interface KeyringServices {
  /** The default service's store: it holds the list of services. */
  home: KeyringEntryStore;
  /** A store for another service, closed by the caller after use. */
  open(service: string): KeyringEntryStore;
  /** `keyring:` was opened: list the keys of every recorded service, not only this one's. */
  listAll: boolean;
}

export const KEYRING_ALGORITHMS: readonly KeyAlgorithm[] = ['ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'ed25519'];

interface LoadedKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  algorithm: KeyAlgorithm;
}

/**
 * The keys of one keyring service. Each private key is a PKCS#8 PEM string in its own keyring entry
 * (account = key id); the entry `.cosignkit-index` lists accounts, algorithms and public keys. A key is read
 * from the keyring once and then kept, decrypted, in this object until close().
 */
export class KeyringKeyManager implements KeyManager {
  readonly backend = 'keyring';
  readonly #store: KeyringEntryStore;
  readonly #logger: Logger;
  readonly #keys = new Map<string, Promise<LoadedKey>>();
  /** Index read-modify-writes run one at a time (two generates must not drop each other's line). */
  #indexQueue: Promise<unknown> = Promise.resolve();
  #closed = false;

  readonly #services: KeyringServices | undefined;

  constructor(store: KeyringEntryStore, logger: Logger = silentLogger, services?: KeyringServices) {
    this.#store = store;
    this.#logger = logger;
    this.#services = services;
  }

  get service(): string {
    return this.#store.service;
  }

  async generateKeyPair(options: GenerateKeyOptions = {}): Promise<KeyInfo> {
    this.#assertOpen();
    throwIfAborted(options.signal);
    const algorithm = options.algorithm ?? 'ecdsa-p256-sha256';
    if (!KEYRING_ALGORITHMS.includes(algorithm)) {
      throw new CosignkitError('ALGORITHM_UNSUPPORTED', `the keyring backend cannot generate ${algorithm} keys`);
    }
    const account = options.label;
    if (account === undefined || account === '') {
      throw new CosignkitError(
        'USAGE',
        'a keyring key needs a name: give a label, or a reference keyring:<service>/<account>',
      );
    }
    if (isReservedAccount(account))
      throw new CosignkitError('USAGE', `"${account}" is reserved for cosignkit's key index`);
    const ref = formatKeyringRef(this.service, account);
    return this.#withIndex(async (index) => {
      if (index.some((k) => k.account === account) || (await this.#store.get(account, `reading ${ref}`)) !== null) {
        throw new CosignkitError('KEY_EXISTS', `${ref} already exists`);
      }
      const { privateKey, publicKey } =
        algorithm === 'ed25519'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('ec', { namedCurve: ALGORITHMS[algorithm].namedCurve! });
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      await this.#store.set(account, pem, `storing ${ref}`);
      const entry: IndexedKey = {
        account,
        algorithm,
        publicKeyPem: publicKeyPem(publicKey),
        createdAt: new Date().toISOString(),
      };
      try {
        await this.#writeIndex([...index, entry]);
      } catch (error) {
        // A key the index does not list would be invisible to `key list`: take it back out.
        await this.#store.delete(account, `removing ${ref} after a failed index update`).catch((cleanup: Error) => {
          this.#logger.warn('a key the index does not list is left in the keyring', { ref, error: cleanup.message });
        });
        throw error;
      }
      this.#keys.set(account, Promise.resolve(loaded(privateKey, publicKey, algorithm)));
      await this.#recordService();
      this.#logger.debug('keyring key generated', { ref, algorithm });
      return this.#info(entry);
    });
  }

  async getPublicKey(id: string): Promise<KeyObject> {
    return (await this.#load(id)).publicKey;
  }

  async getPublicKeyPem(id: string): Promise<string> {
    return publicKeyPem((await this.#load(id)).publicKey);
  }

  async getPublicKeyFingerprint(id: string): Promise<string> {
    return fingerprintOf((await this.#load(id)).publicKey);
  }

  async getAlgorithm(id: string): Promise<KeyAlgorithm> {
    return (await this.#load(id)).algorithm;
  }

  async signDigest(id: string, digest: Uint8Array, options: SignOptions = {}): Promise<Uint8Array> {
    throwIfAborted(options.signal);
    const key = await this.#load(id);
    return signEcdsaDigest(key.privateKey, key.algorithm, digest);
  }

  async signMessage(id: string, message: Uint8Array, options: SignOptions = {}): Promise<Uint8Array> {
    throwIfAborted(options.signal);
    const key = await this.#load(id);
    const hash = key.algorithm === 'ed25519' ? null : ALGORITHMS[key.algorithm].hash;
    return new Uint8Array(sign(hash, message, key.privateKey));
  }

  async verifySignature(id: string, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
    const key = await this.#load(id);
    const hash = key.algorithm === 'ed25519' ? null : ALGORITHMS[key.algorithm].hash;
    try {
      return verify(hash, message, key.publicKey, signature);
    } catch {
      return false; // a signature OpenSSL cannot even parse is simply not valid
    }
  }

  async listKeys(): Promise<KeyInfo[]> {
    this.#assertOpen();
    const own = (await this.#readIndex()).map((entry) => this.#info(entry));
    if (!this.#services?.listAll) return own;
    const services = parseServiceIndex(
      await this.#services.home.get(SERVICES_ACCOUNT, 'reading the list of keyring services'),
    ).filter((s) => s !== this.service);
    const listed = [...own];
    for (const service of services) {
      const store = this.#services.open(service);
      try {
        const index = parseKeyIndex(await store.get(INDEX_ACCOUNT, `reading the key index of "${service}"`), service);
        listed.push(...index.map((entry) => infoOf(service, entry)));
      } finally {
        store.close();
      }
    }
    return listed;
  }

  async deleteKey(id: string): Promise<void> {
    this.#assertOpen();
    const ref = this.#refOf(id);
    await this.#withIndex(async (index) => {
      const deleted = await this.#store.delete(id, `deleting ${ref}`);
      const rest = index.filter((k) => k.account !== id);
      if (rest.length !== index.length) await this.#writeIndex(rest);
      this.#keys.delete(id);
      this.#store.forget(id);
      if (!deleted && rest.length === index.length) throw notFound(ref);
      this.#logger.debug('keyring key deleted', { ref });
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#keys.clear();
    this.#store.close();
    if (this.#services && this.#services.home !== this.#store) this.#services.home.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #load(id: string): Promise<LoadedKey> {
    this.#assertOpen();
    const ref = this.#refOf(id);
    let key = this.#keys.get(id);
    if (!key) {
      key = this.#read(id, ref);
      this.#keys.set(id, key);
      key.catch(() => this.#keys.delete(id));
    }
    return key;
  }

  async #read(id: string, ref: string): Promise<LoadedKey> {
    const pem = await this.#store.get(id, `reading ${ref}`);
    if (pem === null) throw notFound(ref);
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: pem, format: 'pem' });
    } catch (error) {
      throw new CosignkitError('KEY_MALFORMED', `${ref} does not hold a PKCS#8 private key`, { cause: error });
    }
    const algorithm = algorithmOfKey(privateKey);
    this.#logger.debug('keyring key loaded', { ref, algorithm });
    return loaded(privateKey, createPublicKey(privateKey), algorithm);
  }

  async #readIndex(): Promise<IndexedKey[]> {
    return parseKeyIndex(
      await this.#store.get(INDEX_ACCOUNT, `reading the key index of "${this.service}"`),
      this.service,
    );
  }

  async #writeIndex(keys: readonly IndexedKey[]): Promise<void> {
    const doing = `writing the key index of "${this.service}"`;
    if (keys.length === 0) await this.#store.delete(INDEX_ACCOUNT, doing);
    else await this.#store.set(INDEX_ACCOUNT, serializeKeyIndex(keys), doing);
  }

  #withIndex<T>(change: (index: IndexedKey[]) => Promise<T>): Promise<T> {
    const run = this.#indexQueue.then(async () => change(await this.#readIndex()));
    this.#indexQueue = run.catch(() => undefined);
    return run;
  }

  #info(entry: IndexedKey): KeyInfo {
    return infoOf(this.service, entry);
  }

  /** Adds this service to the list of services (once): `key list --backend keyring` then finds its keys. */
  async #recordService(): Promise<void> {
    const home = this.#services?.home;
    if (!home) return;
    const doing = 'recording the service in the list of keyring services';
    const known = parseServiceIndex(await home.get(SERVICES_ACCOUNT, doing));
    if (known.includes(this.service)) return;
    if (known.length >= MAX_SERVICES) {
      this.#logger.warn(`the list of keyring services is full (${MAX_SERVICES}): key list will not show this one`, {
        service: this.service,
      });
      return;
    }
    await home.set(SERVICES_ACCOUNT, serializeServiceIndex([...known, this.service]), doing);
  }

  #refOf(id: string): string {
    if (typeof id !== 'string' || id === '')
      throw new CosignkitError('USAGE', 'no keyring account given (keyring:<service>/<account>)');
    const ref = formatKeyringRef(this.service, id);
    if (isReservedAccount(id)) throw notFound(ref);
    return ref;
  }

  #assertOpen(): void {
    if (this.#closed) throw new CosignkitError('USAGE', `the keyring store "${this.service}" was closed`);
  }
}

function infoOf(service: string, entry: IndexedKey): KeyInfo {
  return {
    id: entry.account,
    label: entry.account,
    algorithm: entry.algorithm,
    backend: 'keyring',
    ref: formatKeyringRef(service, entry.account),
    publicKeyPem: entry.publicKeyPem,
    fingerprint: fingerprintOf(createPublicKey(entry.publicKeyPem)),
  };
}

function loaded(privateKey: KeyObject, publicKey: KeyObject, algorithm: KeyAlgorithm): LoadedKey {
  return { privateKey, publicKey, algorithm };
}

function notFound(ref: string): CosignkitError {
  return new CosignkitError('KEY_NOT_FOUND', `${ref} does not exist in the OS keyring`);
}
