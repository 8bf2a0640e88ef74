import { parseKeyRef, type KeyInfo } from '@cosignkit/core';
import { ensure, must } from '../assertions.js';
import type { Subject } from '../subject.js';

/** KeyInfo.ref, opened afresh through the backend, reaches the same key (same fingerprint). */
export async function checkRefReopens(subject: Subject, info: KeyInfo): Promise<void> {
  const { backend, context } = subject;
  const ref = parseKeyRef(info.ref);
  const id = backend.keyIdOf(ref);
  ensure(
    id === info.id,
    `keyIdOf(parseKeyRef(info.ref)) is ${JSON.stringify(id)}, expected ${JSON.stringify(info.id)}`,
  );
  const manager = await must('opening KeyInfo.ref', () => backend.open(ref, context));
  try {
    ensure(
      manager.backend === backend.name,
      `the reopened manager says backend ${manager.backend}, expected ${backend.name}`,
    );
    const fingerprint = await must('getPublicKeyFingerprint through the reopened ref', () =>
      manager.getPublicKeyFingerprint(id),
    );
    ensure(
      fingerprint === info.fingerprint,
      `KeyInfo.ref reopens a different key: fingerprint ${fingerprint}, expected ${info.fingerprint}`,
    );
  } finally {
    await manager.close();
  }
}
