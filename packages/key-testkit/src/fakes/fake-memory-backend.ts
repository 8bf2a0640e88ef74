import { generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import {
  ALGORITHMS,
  CosignkitError,
  toCosignkitError,
  assertDigestLength,
  fingerprintOf,
  publicKeyPem,
  type BackendCapabilities,
  type GenerateKeyOptions,
  type KeyAlgorithm,
  type KeyBackend,
  type KeyInfo,
  type KeyManager,
  type KeyRef,
  type SignOptions,
} from '@cosignkit/core';
import { fakeSignDigest } from './fake-ecdsa-digest.js';

interface StoredKey {
  algorithm: KeyAlgorithm;
  label: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Stores live for the process, by name, so reopening `memory:<store>/<id>` reaches the same keys. */
const STORES = new Map<string, Map<string, StoredKey>>();

/**
 * The reference backend of the kit's own tests: node:crypto keys in a Map, correct in every way the kit
 * checks. Not a real store, hence the name. References: `memory:<store>` and `memory:<store>/<id>`.
 */
export class FakeMemoryKeyManager implements KeyManager {
  readonly backend = 'memory';
  readonly #store: string;
  readonly #keys: Map<string, StoredKey>;
  readonly #capabilities: BackendCapabilities;

  constructor(store: string, capabilities: BackendCapabilities) {
    this.#store = store;
    this.#capabilities = capabilities;
    let keys = STORES.get(store);
    if (!keys) {
      keys = new Map();
      STORES.set(store, keys);
    }
    this.#keys = keys;
  }

  async generateKeyPair(options: GenerateKeyOptions = {}): Promise<KeyInfo> {
    if (!this.#capabilities.generate) throw new CosignkitError('NOT_SUPPORTED', 'this memory store is read-only');
    const algorithm = options.algorithm ?? 'ecdsa-p256-sha256';
    if (!this.#capabilities.algorithms.includes(algorithm)) {
      throw new CosignkitError('ALGORITHM_UNSUPPORTED', `this memory store does not hold ${algorithm} keys`);
    }
    return this.add(algorithm, options.label);
  }

  /** Generates without the capability checks: seeds a read-only store for a test. */
  add(algorithm: KeyAlgorithm, label: string | undefined): KeyInfo {
    if (!label) throw new CosignkitError('USAGE', 'the memory backend needs a label');
    if (this.#keys.has(label)) throw new CosignkitError('KEY_EXISTS', `key ${label} exists`);
    const namedCurve = ALGORITHMS[algorithm].namedCurve;
    const { privateKey, publicKey } = namedCurve
      ? generateKeyPairSync('ec', { namedCurve })
      : generateKeyPairSync('ed25519');
    this.#keys.set(label, { algorithm, label, privateKey, publicKey });
    return this.#info(label);
  }

  async getPublicKey(id: string): Promise<KeyObject> {
    return this.#get(id).publicKey;
  }

  async getPublicKeyPem(id: string): Promise<string> {
    return publicKeyPem(this.#get(id).publicKey);
  }

  async getPublicKeyFingerprint(id: string): Promise<string> {
    return fingerprintOf(this.#get(id).publicKey);
  }

  async getAlgorithm(id: string): Promise<KeyAlgorithm> {
    return this.#get(id).algorithm;
  }

  async signDigest(id: string, digest: Uint8Array, options: SignOptions = {}): Promise<Uint8Array> {
    const key = this.#get(id);
    assertDigestLength(key.algorithm, digest);
    await interleave(options.signal);
    return fakeSignDigest(key.algorithm, key.privateKey, digest);
  }

  async signMessage(id: string, message: Uint8Array, options: SignOptions = {}): Promise<Uint8Array> {
    const key = this.#get(id);
    const hash = key.algorithm === 'ed25519' ? null : ALGORITHMS[key.algorithm].hash;
    await interleave(options.signal);
    return new Uint8Array(sign(hash, message, { key: key.privateKey, dsaEncoding: 'der' }));
  }

  async verifySignature(id: string, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
    const key = this.#get(id);
    const hash = key.algorithm === 'ed25519' ? null : ALGORITHMS[key.algorithm].hash;
    try {
      return verify(hash, message, { key: key.publicKey, dsaEncoding: 'der' }, signature);
    } catch {
      return false;
    }
  }

  async listKeys(): Promise<KeyInfo[]> {
    return [...this.#keys.keys()].map((id) => this.#info(id));
  }

  async deleteKey(id: string): Promise<void> {
    this.#get(id);
    if (!this.#capabilities.delete) throw new CosignkitError('NOT_SUPPORTED', 'this memory store is read-only');
    this.#keys.delete(id);
  }

  async close(): Promise<void> {}

  #get(id: string): StoredKey {
    const key = this.#keys.get(id);
    if (!key) throw new CosignkitError('KEY_NOT_FOUND', `no key ${id} in memory store ${this.#store}`);
    return key;
  }

  #info(id: string): KeyInfo {
    const key = this.#get(id);
    return {
      id,
      label: key.label,
      algorithm: key.algorithm,
      backend: this.backend,
      ref: `memory:${this.#store}/${id}`,
      publicKeyPem: publicKeyPem(key.publicKey),
      fingerprint: fingerprintOf(key.publicKey),
    };
  }
}

/** Yields, so concurrent calls really interleave, then honours the caller's signal. */
async function interleave(signal: AbortSignal | undefined): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  if (signal?.aborted) throw toCosignkitError(signal.reason);
}

const storeOf = (ref: KeyRef): string => ref.path.split('/')[0] ?? '';

export function fakeMemoryBackend(overrides: Partial<BackendCapabilities> = {}): KeyBackend {
  const capabilities: BackendCapabilities = {
    generate: true,
    delete: true,
    algorithms: ['ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'ed25519'],
    extractable: true,
    ...overrides,
  };
  return {
    specVersion: 1,
    name: 'memory',
    schemes: ['memory'],
    capabilities,
    async open(ref) {
      const store = storeOf(ref);
      if (store === '') throw new CosignkitError('KEY_REF_INVALID', 'a memory reference names a store: memory:<store>');
      return new FakeMemoryKeyManager(store, capabilities);
    },
    keyIdOf(ref) {
      return ref.path.split('/').slice(1).join('/');
    },
    // The store is named in the path (`memory:<store>/<id>`), which the registry's default rule ignores.
    storeIdOf: storeOf,
  };
}
