import type { KeyInfo } from '@cosignkit/core';
import { ensure, must } from '../assertions.js';
import type { Subject } from '../subject.js';
import { checkKeyInfo } from './key-info.js';

/** Every listed key is a valid KeyInfo of this backend, and no id appears twice. */
export async function checkListShape(subject: Subject): Promise<KeyInfo[]> {
  const keys = await must('listKeys', () => subject.manager.listKeys());
  ensure(Array.isArray(keys), 'listKeys did not return an array');
  for (const info of keys) checkKeyInfo(subject, info);
  const ids = keys.map((k) => k.id);
  ensure(new Set(ids).size === ids.length, 'listKeys returned the same id twice');
  return keys;
}

/** listKeys shows `expected` with the same algorithm, backend, public key and fingerprint. */
export async function checkListed(subject: Subject, expected: KeyInfo): Promise<void> {
  const keys = await checkListShape(subject);
  const found = keys.find((k) => k.id === expected.id);
  ensure(found, `listKeys does not contain the key ${JSON.stringify(expected.id)}`);
  ensure(found.algorithm === expected.algorithm, `listKeys says ${found.algorithm} for a ${expected.algorithm} key`);
  ensure(found.backend === expected.backend, `listKeys says backend ${found.backend}, expected ${expected.backend}`);
  ensure(
    found.fingerprint === expected.fingerprint,
    `listKeys gives fingerprint ${found.fingerprint}, expected ${expected.fingerprint}`,
  );
}

export async function checkNotListed(subject: Subject, id: string): Promise<void> {
  const keys = await must('listKeys', () => subject.manager.listKeys());
  ensure(!keys.some((k) => k.id === id), `listKeys still contains the key ${JSON.stringify(id)}`);
}
