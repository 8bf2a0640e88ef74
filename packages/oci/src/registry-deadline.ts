import { CosignkitError } from '@cosignkit/core';

/**
 * The signal of one exchange with a registry: aborted by the caller's signal or when `timeoutMs` has passed,
 * whichever comes first. fetch ties the response body to it, so the deadline covers the body too.
 */
export function exchangeSignal(timeoutMs: number, parent?: AbortSignal): AbortSignal {
  const deadline = AbortSignal.timeout(timeoutMs);
  return parent ? AbortSignal.any([parent, deadline]) : deadline;
}

/** TIMEOUT when the signal's deadline passed, ABORTED when the caller aborted. */
export function abortedError(signal: AbortSignal, what: string, timeoutMs: number, cause?: unknown): CosignkitError {
  const reason = signal.reason as { name?: string } | undefined;
  if (reason?.name === 'TimeoutError') {
    return new CosignkitError('TIMEOUT', `${what} took longer than ${formatMs(timeoutMs)} (--registry-timeout)`, {
      cause,
      details: { timeoutMs },
    });
  }
  return new CosignkitError('ABORTED', 'the operation was aborted', { cause });
}

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
