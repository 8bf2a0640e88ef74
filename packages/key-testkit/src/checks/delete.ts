import { randomBytes } from 'node:crypto';
import { ALGORITHMS, type KeyInfo } from '@cosignkit/core';
import { ensure, expectCode, must } from '../assertions.js';
import type { Subject } from '../subject.js';
import { checkNotListed } from './list-keys.js';

/** After deleteKey the key is gone: not listed, KEY_NOT_FOUND for its public key and for signing. */
export async function checkDelete(subject: Subject, info: KeyInfo): Promise<void> {
  const { manager } = subject;
  await must('deleteKey', () => manager.deleteKey(info.id));
  await checkNotListed(subject, info.id);
  await checkMissing(subject, info.id, info, 'a deleted key');
}

/** A backend declaring `delete: false` refuses with NOT_SUPPORTED and keeps the key. */
export async function checkDeleteRefused(subject: Subject, info: KeyInfo): Promise<void> {
  await expectCode('deleteKey on a backend without the delete capability', ['NOT_SUPPORTED'], () =>
    subject.manager.deleteKey(info.id),
  );
  const fingerprint = await must('getPublicKeyFingerprint', () => subject.manager.getPublicKeyFingerprint(info.id));
  ensure(fingerprint === info.fingerprint, 'the refused deleteKey changed the key anyway');
}

/** An id the store never had is KEY_NOT_FOUND everywhere, never a crash or an empty answer. */
export async function checkUnknownKey(subject: Subject): Promise<void> {
  const id = `testkit-missing-${randomBytes(4).toString('hex')}`;
  await checkMissing(subject, id, undefined, 'an unknown key id');
}

async function checkMissing(subject: Subject, id: string, info: KeyInfo | undefined, what: string): Promise<void> {
  const { manager } = subject;
  const notFound = ['KEY_NOT_FOUND'] as const;
  await expectCode(`getPublicKey on ${what}`, notFound, () => manager.getPublicKey(id));
  await expectCode(`getPublicKeyPem on ${what}`, notFound, () => manager.getPublicKeyPem(id));
  await expectCode(`getPublicKeyFingerprint on ${what}`, notFound, () => manager.getPublicKeyFingerprint(id));
  await expectCode(`getAlgorithm on ${what}`, notFound, () => manager.getAlgorithm(id));
  const algorithm = info?.algorithm ?? subject.backend.capabilities.algorithms[0]!;
  const digestLength = ALGORITHMS[algorithm].digestLength;
  if (digestLength !== undefined) {
    await expectCode(`signDigest on ${what}`, notFound, () => manager.signDigest(id, new Uint8Array(digestLength)));
  } else if (typeof manager.signMessage === 'function') {
    await expectCode(`signMessage on ${what}`, notFound, () => manager.signMessage!(id, new Uint8Array(8)));
  }
}
