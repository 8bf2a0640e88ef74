import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { ALGORITHMS, CosignkitError, type KeyAlgorithm, type KeyInfo } from '@cosignkit/core';
import { ensure, must } from '../assertions.js';
import { ConformanceError } from '../conformance-error.js';
import type { Subject } from '../subject.js';
import { signOnce, testMessage } from './sign.js';

/**
 * verifySignature accepts the key's own signature and rejects a tampered message, a signature by another
 * key of the same algorithm, and garbage (false, or SIGNATURE_MALFORMED).
 */
export async function checkVerifySignature(subject: Subject, info: KeyInfo): Promise<void> {
  const { manager } = subject;
  const message = testMessage();
  const signature = await signOnce(subject, info, message);
  const verifyWith = (sig: Uint8Array, data: Uint8Array) => manager.verifySignature(info.id, sig, data);
  ensure(
    (await must('verifySignature', () => verifyWith(signature, message))) === true,
    'verifySignature returned false for a signature the key just made',
  );
  const tampered = new Uint8Array(message);
  tampered[tampered.length - 1]! ^= 0x01;
  ensure(
    (await must('verifySignature (tampered message)', () => verifyWith(signature, tampered))) === false,
    'verifySignature accepted a signature over a tampered message',
  );
  const foreign = foreignSignature(info.algorithm, message);
  ensure(
    (await must('verifySignature (another key)', () => verifyWith(foreign, message))) === false,
    'verifySignature accepted a signature made by another key',
  );
  await checkGarbageRejected(() => verifyWith(new Uint8Array(signature.length).fill(0x30), message));
}

async function checkGarbageRejected(action: () => Promise<boolean>): Promise<void> {
  let result: boolean;
  try {
    result = await action();
  } catch (error) {
    if (CosignkitError.isInstance(error) && error.code === 'SIGNATURE_MALFORMED') return;
    throw new ConformanceError(
      'verifySignature threw on a malformed signature instead of returning false or SIGNATURE_MALFORMED',
      {
        cause: error,
      },
    );
  }
  ensure(result === false, 'verifySignature accepted a malformed signature');
}

/** A valid signature over `message` by a throwaway node:crypto key of the same algorithm. */
export function foreignSignature(algorithm: KeyAlgorithm, message: Uint8Array): Uint8Array {
  const facts = ALGORITHMS[algorithm];
  let privateKey: KeyObject;
  if (facts.namedCurve) privateKey = generateKeyPairSync('ec', { namedCurve: facts.namedCurve }).privateKey;
  else privateKey = generateKeyPairSync('ed25519').privateKey;
  if (!facts.namedCurve) return new Uint8Array(sign(null, message, privateKey));
  return new Uint8Array(sign(facts.hash, message, { key: privateKey, dsaEncoding: 'der' }));
}
