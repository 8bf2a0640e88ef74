import { parseKeyRef } from '@cosignkit/core';
import { must } from '../assertions.js';
import type { Subject } from '../subject.js';

/** close() on a freshly opened store, twice: the second call is a no-op, not an error. */
export async function checkCloseIdempotent(subject: Subject): Promise<void> {
  const manager = await must('opening the store', () =>
    subject.backend.open(parseKeyRef(subject.storeRef), subject.context),
  );
  await must('listKeys', () => manager.listKeys());
  await must('close()', () => manager.close());
  await must('a second close()', () => manager.close());
}
