import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { KEY_ALGORITHMS, algorithmOfKey, parseKeyRef, type KeyInfo } from '@cosignkit/core';
import { ensure } from '../assertions.js';
import { ConformanceError } from '../conformance-error.js';
import type { Subject } from '../subject.js';

const FINGERPRINT = /^[0-9a-f]{64}$/;

/** SHA-256 of the SPKI DER, lower-case hex: computed here with node:crypto, never with the backend's help. */
export function referenceFingerprint(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** Parses an SPKI PEM ("BEGIN PUBLIC KEY", as cosign writes them) into a public KeyObject. */
export function parsePublicKeyPem(pem: string, what: string): KeyObject {
  ensure(
    typeof pem === 'string' && pem.includes('-----BEGIN PUBLIC KEY-----'),
    `${what} is not an SPKI "PUBLIC KEY" PEM`,
  );
  ensure(!pem.includes('PRIVATE KEY'), `${what} contains a private key`);
  try {
    return createPublicKey(pem);
  } catch (error) {
    throw new ConformanceError(`${what} cannot be parsed by node:crypto`, { cause: error });
  }
}

/** One KeyInfo, alone: well-formed, self-consistent, and its ref names its id. */
export function checkKeyInfo(subject: Subject, info: KeyInfo): void {
  const { backend } = subject;
  const where = `KeyInfo ${JSON.stringify(info?.id)}`;
  ensure(info !== null && typeof info === 'object', 'KeyInfo is not an object');
  ensure(typeof info.id === 'string' && info.id !== '', `${where}: id is empty`);
  ensure(info.label === undefined || typeof info.label === 'string', `${where}: label is not a string`);
  ensure(KEY_ALGORITHMS.includes(info.algorithm), `${where}: unknown algorithm ${JSON.stringify(info.algorithm)}`);
  ensure(
    backend.capabilities.algorithms.includes(info.algorithm),
    `${where}: algorithm ${info.algorithm} is not in capabilities.algorithms`,
  );
  ensure(
    info.backend === backend.name,
    `${where}: backend is ${JSON.stringify(info.backend)}, expected ${JSON.stringify(backend.name)}`,
  );
  ensure(
    typeof info.fingerprint === 'string' && FINGERPRINT.test(info.fingerprint),
    `${where}: fingerprint ${JSON.stringify(info.fingerprint)} is not 64 lower-case hex digits`,
  );
  const key = parsePublicKeyPem(info.publicKeyPem, `${where}: publicKeyPem`);
  ensure(
    algorithmOfKey(key) === info.algorithm,
    `${where}: publicKeyPem holds a ${algorithmOfKey(key)} key but algorithm says ${info.algorithm}`,
  );
  const fingerprint = referenceFingerprint(key);
  ensure(
    info.fingerprint === fingerprint,
    `${where}: fingerprint ${info.fingerprint} is not the SHA-256 of the SPKI DER (${fingerprint})`,
  );
  ensure(typeof info.ref === 'string' && info.ref !== '', `${where}: ref is empty`);
  const ref = parseKeyRef(info.ref);
  ensure(
    backend.schemes.includes(ref.scheme),
    `${where}: ref scheme "${ref.scheme}:" is not one of the backend's schemes`,
  );
  const id = backend.keyIdOf(ref);
  ensure(id === info.id, `${where}: keyIdOf(parseKeyRef(ref)) is ${JSON.stringify(id)}, not the id`);
}
