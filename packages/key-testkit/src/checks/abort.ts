import { createHash } from 'node:crypto';
import { ALGORITHMS, type KeyInfo } from '@cosignkit/core';
import { expectCode } from '../assertions.js';
import type { Subject } from '../subject.js';
import { isPure, testMessage } from './sign.js';

/**
 * A signature asked for with an already-aborted signal is refused with ABORTED: a caller that gave up
 * (a closed request, a timeout) must not get a token or TPM to sign anyway.
 */
export async function checkAbortedSigning(subject: Subject, info: KeyInfo): Promise<void> {
  const { manager } = subject;
  const signal = AbortSignal.abort();
  const message = testMessage();
  if (isPure(info)) {
    await expectCode('signMessage with an aborted signal', ['ABORTED'], () =>
      manager.signMessage!(info.id, message, { signal }),
    );
    return;
  }
  const digest = new Uint8Array(createHash(ALGORITHMS[info.algorithm].hash).update(message).digest());
  await expectCode('signDigest with an aborted signal', ['ABORTED'], () =>
    manager.signDigest(info.id, digest, { signal }),
  );
}
