import type { KeyAlgorithm, KeyInfo } from '@cosignkit/core';
import { ensure, expectCode, must } from '../assertions.js';
import { uniqueLabel } from '../labels.js';
import type { Subject } from '../subject.js';
import { checkKeyInfo } from './key-info.js';

/** Generates a key of `algorithm` under a fresh label and checks what comes back. */
export async function checkGenerate(
  subject: Subject,
  algorithm: KeyAlgorithm,
  label = uniqueLabel(algorithm),
): Promise<KeyInfo> {
  const info = await must(`generateKeyPair(${algorithm})`, () => subject.manager.generateKeyPair({ algorithm, label }));
  checkKeyInfo(subject, info);
  ensure(info.algorithm === algorithm, `generateKeyPair({algorithm: ${algorithm}}) made a ${info.algorithm} key`);
  ensure(
    info.label === label || info.id.includes(label),
    `generateKeyPair ignored the label ${JSON.stringify(label)} (id ${JSON.stringify(info.id)}, label ${JSON.stringify(info.label)})`,
  );
  return info;
}

/** A second key under a taken label must not replace the first (code KEY_EXISTS). */
export async function checkDuplicateLabelRefused(subject: Subject, existing: KeyInfo, label: string): Promise<void> {
  const { manager } = subject;
  await expectCode(`generateKeyPair with the taken label ${JSON.stringify(label)}`, ['KEY_EXISTS'], () =>
    manager.generateKeyPair({ algorithm: existing.algorithm, label }),
  );
  const fingerprint = await must('getPublicKeyFingerprint', () => manager.getPublicKeyFingerprint(existing.id));
  ensure(fingerprint === existing.fingerprint, 'the refused generateKeyPair replaced the existing key anyway');
}

/** An algorithm the backend does not declare must be refused, not silently swapped for another. */
export async function checkUndeclaredAlgorithmRefused(subject: Subject, algorithm: KeyAlgorithm): Promise<void> {
  ensure(!subject.backend.capabilities.algorithms.includes(algorithm), `${algorithm} is declared; nothing to refuse`);
  await expectCode(
    `generateKeyPair(${algorithm}) (not in capabilities.algorithms)`,
    ['ALGORITHM_UNSUPPORTED', 'NOT_SUPPORTED'],
    () => subject.manager.generateKeyPair({ algorithm, label: uniqueLabel(algorithm, 'undeclared') }),
  );
}

/** A backend declaring `generate: false` refuses with NOT_SUPPORTED. */
export async function checkGenerateRefused(subject: Subject): Promise<void> {
  const algorithm = subject.backend.capabilities.algorithms[0]!;
  await expectCode('generateKeyPair on a backend without the generate capability', ['NOT_SUPPORTED'], () =>
    subject.manager.generateKeyPair({ algorithm, label: uniqueLabel(algorithm, 'refused') }),
  );
}
