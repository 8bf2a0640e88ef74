import { createHash, randomBytes, verify, type KeyObject } from 'node:crypto';
import { ALGORITHMS, type KeyInfo } from '@cosignkit/core';
import { ensure, expectCode, must } from '../assertions.js';
import { ConformanceError } from '../conformance-error.js';
import { assertDerEcdsaSignature } from '../der.js';
import type { Subject } from '../subject.js';
import { parsePublicKeyPem } from './key-info.js';

/** A message of its own for every call, so no backend can pass by caching one signature. */
export function testMessage(): Uint8Array {
  return new Uint8Array(Buffer.concat([Buffer.from('cosignkit conformance message '), randomBytes(24)]));
}

export const isPure = (info: KeyInfo): boolean => ALGORITHMS[info.algorithm].digestLength === undefined;

/**
 * Signs `message` the way the algorithm asks (signDigest over the key's hash for ECDSA, signMessage for
 * Ed25519), checks the encoding, and has node:crypto verify it against the key's PEM from KeyInfo.
 */
export async function checkSignature(subject: Subject, info: KeyInfo, message = testMessage()): Promise<Uint8Array> {
  const signature = await signOnce(subject, info, message);
  assertVerifiesWithNode(info, message, signature);
  return signature;
}

export async function signOnce(subject: Subject, info: KeyInfo, message: Uint8Array): Promise<Uint8Array> {
  const { manager } = subject;
  const facts = ALGORITHMS[info.algorithm];
  if (isPure(info)) {
    ensure(
      typeof manager.signMessage === 'function',
      `${info.algorithm} keys need signMessage, which the manager lacks`,
    );
    const signature = await must('signMessage', () => manager.signMessage!(info.id, message));
    ensure(signature instanceof Uint8Array, 'signMessage did not return a Uint8Array');
    return signature;
  }
  const digest = createHash(facts.hash).update(message).digest();
  const signature = await must('signDigest', () => manager.signDigest(info.id, new Uint8Array(digest)));
  ensure(signature instanceof Uint8Array, 'signDigest did not return a Uint8Array');
  assertDerEcdsaSignature(signature, facts.coordinateLength!);
  return signature;
}

export function assertVerifiesWithNode(info: KeyInfo, message: Uint8Array, signature: Uint8Array): void {
  const key = parsePublicKeyPem(info.publicKeyPem, 'KeyInfo.publicKeyPem');
  ensure(
    nodeVerify(info, key, message, signature),
    `node:crypto rejects the ${info.algorithm} signature of key ${JSON.stringify(info.id)}`,
  );
}

export function nodeVerify(info: KeyInfo, key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (isPure(info)) return verify(null, message, key, signature);
    return verify(ALGORITHMS[info.algorithm].hash, message, { key, dsaEncoding: 'der' }, signature);
  } catch (error) {
    throw new ConformanceError('node:crypto could not check the signature', { cause: error });
  }
}

/** The optional prepare() must succeed for a usable key and leave signing intact (it only moves cost). */
export async function checkPrepare(subject: Subject, info: KeyInfo): Promise<void> {
  const { manager } = subject;
  if (typeof manager.prepare !== 'function') return;
  await must('prepare', () => manager.prepare!(info.id));
  await checkSignature(subject, info);
  await expectCode('prepare of an unknown key', ['KEY_NOT_FOUND'], () => manager.prepare!(`no-such-key-${Date.now()}`));
}

/** An ECDSA key that also offers signMessage must hash with its own algorithm's hash. */
export async function checkSignMessage(subject: Subject, info: KeyInfo): Promise<void> {
  const { manager } = subject;
  if (typeof manager.signMessage !== 'function' || isPure(info)) return;
  const message = testMessage();
  const signature = await must('signMessage', () => manager.signMessage!(info.id, message));
  ensure(signature instanceof Uint8Array, 'signMessage did not return a Uint8Array');
  assertDerEcdsaSignature(signature, ALGORITHMS[info.algorithm].coordinateLength!);
  assertVerifiesWithNode(info, message, signature);
}

/**
 * A digest of the wrong length is refused with DIGEST_LENGTH (a token would sign any bytes it is given);
 * an Ed25519 key refuses signDigest altogether. Lengths the algorithm also accepts (a SHA-256 digest on a
 * P-384 key, which stock cosign sends) must give a signature node:crypto verifies with that hash.
 */
export async function checkDigestLength(subject: Subject, info: KeyInfo): Promise<void> {
  const { manager } = subject;
  const { digestLength: expected, alsoAccepts = [] } = ALGORITHMS[info.algorithm];
  if (expected === undefined) {
    await expectCode(`signDigest on a ${info.algorithm} key`, ['NOT_SUPPORTED', 'ALGORITHM_UNSUPPORTED'], () =>
      manager.signDigest(info.id, new Uint8Array(64)),
    );
    return;
  }
  const wrong = [0, expected - 1, expected + 1, 32, 48, 64].filter((n) => n !== expected && !alsoAccepts.includes(n));
  for (const length of wrong) {
    await expectCode(`signDigest with a ${length}-byte digest on a ${info.algorithm} key`, ['DIGEST_LENGTH'], () =>
      manager.signDigest(info.id, new Uint8Array(randomBytes(length))),
    );
  }
  for (const length of alsoAccepts) {
    const hash = length === 32 ? 'sha256' : length === 48 ? 'sha384' : 'sha512';
    const message = testMessage();
    const digest = createHash(hash).update(message).digest();
    const signature = await must(`signDigest with a ${hash} digest`, () =>
      manager.signDigest(info.id, new Uint8Array(digest)),
    );
    const key = parsePublicKeyPem(info.publicKeyPem, 'KeyInfo.publicKeyPem');
    ensure(
      verify(hash, message, { key, dsaEncoding: 'der' }, signature),
      `node:crypto rejects the ${hash} signature of ${info.algorithm} key ${JSON.stringify(info.id)}`,
    );
  }
}
