import { KeyObject } from 'node:crypto';
import { algorithmOfKey, type KeyInfo } from '@cosignkit/core';
import { ensure, must } from '../assertions.js';
import type { Subject } from '../subject.js';
import { parsePublicKeyPem, referenceFingerprint } from './key-info.js';

/**
 * getPublicKey, getPublicKeyPem, getPublicKeyFingerprint and getAlgorithm agree with each other, with the
 * KeyInfo, and with node:crypto. getPublicKey hands out a public KeyObject only: a private one would verify
 * just as well, and leak the key.
 */
export async function checkPublicKeyViews(subject: Subject, info: KeyInfo): Promise<void> {
  const { manager } = subject;
  const key = await must('getPublicKey', () => manager.getPublicKey(info.id));
  ensure(key instanceof KeyObject, 'getPublicKey did not return a node:crypto KeyObject');
  ensure(key.type === 'public', `getPublicKey returned a ${key.type} KeyObject, not a public one`);
  const pem = await must('getPublicKeyPem', () => manager.getPublicKeyPem(info.id));
  const fromPem = parsePublicKeyPem(pem, 'getPublicKeyPem');
  const fingerprint = await must('getPublicKeyFingerprint', () => manager.getPublicKeyFingerprint(info.id));
  const expected = referenceFingerprint(key);
  ensure(referenceFingerprint(fromPem) === expected, 'getPublicKeyPem and getPublicKey hold different keys');
  ensure(
    fingerprint === expected,
    `getPublicKeyFingerprint is ${fingerprint}, but the SHA-256 of getPublicKey's SPKI DER is ${expected}`,
  );
  ensure(
    info.fingerprint === expected,
    `KeyInfo.fingerprint ${info.fingerprint} is not getPublicKey's fingerprint ${expected}`,
  );
  ensure(
    algorithmOfKey(key) === info.algorithm,
    `getPublicKey holds a ${algorithmOfKey(key)} key, KeyInfo says ${info.algorithm}`,
  );
  const algorithm = await must('getAlgorithm', () => manager.getAlgorithm(info.id));
  ensure(algorithm === info.algorithm, `getAlgorithm says ${algorithm}, KeyInfo says ${info.algorithm}`);
}
