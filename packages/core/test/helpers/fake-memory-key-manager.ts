/**
 * A test-only KeyManager over node:crypto keys held in memory. It stands in for a real backend (core cannot
 * depend on @cosignkit/key-file: that would be a cycle); only the storage is fake — the signing is real
 * (node:crypto for Ed25519, core's signEcdsaDigest for ECDSA digests).
 */
import { generateKeyPairSync, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import {
  CosignkitError,
  KEY_BACKEND_SPEC_VERSION,
  algorithmOfKey,
  fingerprintOf,
  publicKeyPem,
  signEcdsaDigest,
  type KeyAlgorithm,
  type KeyBackend,
  type KeyInfo,
  type KeyManager,
} from '../../src/index.js';

export const FAKE_SCHEME = 'fakemem';

export function newPrivateKey(algorithm: KeyAlgorithm = 'ecdsa-p256-sha256'): KeyObject {
  if (algorithm === 'ed25519') return generateKeyPairSync('ed25519').privateKey;
  const namedCurve = algorithm === 'ecdsa-p384-sha384' ? 'P-384' : 'P-256';
  return generateKeyPairSync('ec', { namedCurve }).privateKey;
}

export function fakeMemoryKeyManager(keys: Map<string, KeyObject>): KeyManager & { calls: string[] } {
  const calls: string[] = [];
  const get = (id: string): KeyObject => {
    const key = keys.get(id);
    if (!key) throw new CosignkitError('KEY_NOT_FOUND', `no key ${id}`);
    return key;
  };
  const info = (id: string): KeyInfo => ({
    id,
    algorithm: algorithmOfKey(get(id)),
    backend: 'fake-memory',
    ref: `${FAKE_SCHEME}:${id}`,
    publicKeyPem: publicKeyPem(get(id)),
    fingerprint: fingerprintOf(get(id)),
  });
  return {
    backend: 'fake-memory',
    calls,
    async generateKeyPair(options = {}) {
      const id = options.label ?? `k${keys.size + 1}`;
      keys.set(id, newPrivateKey(options.algorithm));
      return info(id);
    },
    async getPublicKey(id) {
      return createPublicKey(get(id));
    },
    async getPublicKeyPem(id) {
      return publicKeyPem(get(id));
    },
    async getPublicKeyFingerprint(id) {
      return fingerprintOf(get(id));
    },
    async signDigest(id, digest) {
      calls.push('signDigest');
      return signEcdsaDigest(get(id), algorithmOfKey(get(id)), digest);
    },
    async signMessage(id, message) {
      calls.push('signMessage');
      return new Uint8Array(sign(null, message, get(id)));
    },
    async verifySignature(id, signature, message) {
      const algorithm = algorithmOfKey(get(id));
      const hash = algorithm === 'ed25519' ? null : algorithm === 'ecdsa-p384-sha384' ? 'sha384' : 'sha256';
      return verify(hash, message, createPublicKey(get(id)), signature);
    },
    async getAlgorithm(id) {
      return algorithmOfKey(get(id));
    },
    async listKeys() {
      return [...keys.keys()].map(info);
    },
    async deleteKey(id) {
      keys.delete(id);
    },
    async close() {},
  };
}

/** A KeyBackend serving `fakemem:<id>` from one in-memory store. */
export function fakeMemoryBackend(
  keys: Map<string, KeyObject> = new Map(),
): KeyBackend & { keys: Map<string, KeyObject> } {
  return {
    specVersion: KEY_BACKEND_SPEC_VERSION,
    name: 'fake-memory',
    schemes: [FAKE_SCHEME],
    capabilities: {
      generate: true,
      delete: true,
      algorithms: ['ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'ed25519'],
      extractable: true,
    },
    keys,
    async open() {
      return fakeMemoryKeyManager(keys);
    },
    keyIdOf(ref) {
      return ref.path;
    },
  };
}
