import type { KeyInfo } from '@cosignkit/core';
import { ensure } from '../assertions.js';
import { ConformanceError } from '../conformance-error.js';
import type { Subject } from '../subject.js';
import { assertVerifiesWithNode, signOnce, testMessage } from './sign.js';

/**
 * `count` signatures requested at once on one key all come back valid, each for its own message: sessions,
 * handles and contexts shared inside a backend must not mix requests up.
 */
export async function checkConcurrentSigning(subject: Subject, info: KeyInfo, count = 32): Promise<void> {
  const messages = Array.from({ length: count }, () => testMessage());
  const settled = await Promise.allSettled(messages.map((m) => signOnce(subject, info, m)));
  const failed = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length > 0) {
    const first: unknown = failed[0]!.reason;
    const why = first instanceof Error ? first.message : String(first);
    throw new ConformanceError(`${failed.length} of ${count} concurrent signatures failed; first: ${why}`, {
      cause: first,
    });
  }
  settled.forEach((r, i) => {
    const signature = (r as PromiseFulfilledResult<Uint8Array>).value;
    try {
      assertVerifiesWithNode(info, messages[i]!, signature);
    } catch (error) {
      ensure(
        false,
        `concurrent signature ${i + 1} of ${count} does not verify over its own message: ${(error as Error).message}`,
      );
    }
  });
}
