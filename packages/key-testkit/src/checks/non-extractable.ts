import type { KeyInfo } from '@cosignkit/core';
import { must } from '../assertions.js';
import { ConformanceError } from '../conformance-error.js';
import type { Subject } from '../subject.js';
import type { ProveNonExtractable } from '../conformance-options.js';

/**
 * A backend that declares `extractable: false` proves it: the backend author's probe tries to get the
 * private key out (CKA_EXTRACTABLE, CKA_SENSITIVE, TPM duplication…) and throws unless that fails.
 */
export async function checkNonExtractable(
  subject: Subject,
  info: KeyInfo,
  probe: ProveNonExtractable | undefined,
): Promise<void> {
  if (subject.backend.capabilities.extractable) return;
  if (typeof probe !== 'function') {
    throw new ConformanceError(
      'the backend declares extractable: false but the conformance options give no proveNonExtractable probe',
    );
  }
  await must('proveNonExtractable', () => probe(subject.manager, info.id));
}
