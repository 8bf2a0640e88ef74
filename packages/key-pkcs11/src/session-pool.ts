import type { Session } from 'graphene-pk11';
import { CosignkitError } from '@cosignkit/core';

interface Waiter {
  resolve(session: Session): void;
  reject(error: unknown): void;
}

/**
 * PKCS#11 allows one operation in flight per session (else CKR_OPERATION_ACTIVE): each caller borrows a
 * session for one operation. Sessions open lazily up to `size`; further callers wait in order.
 */
export class SessionPool {
  readonly #open: () => Session;
  readonly #size: number;
  readonly #idle: Session[] = [];
  readonly #all = new Set<Session>();
  readonly #waiters: Waiter[] = [];
  #busy = 0;
  #closed = false;
  #drained: (() => void) | undefined;

  constructor(open: () => Session, size: number) {
    this.#open = open;
    this.#size = Math.max(1, size);
  }

  /** Runs `fn` with a session of its own; the session returns to the pool when the promise settles. */
  async use<T>(fn: (session: Session) => T | Promise<T>, signal?: AbortSignal): Promise<T> {
    const session = await this.#acquire(signal);
    try {
      return await fn(session);
    } finally {
      this.#release(session);
    }
  }

  /** Refuses new work, lets the operations in flight and those already queued finish, then closes every session. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#busy > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    const errors: unknown[] = [];
    for (const session of this.#all) {
      try {
        session.close();
      } catch (error) {
        errors.push(error);
      }
    }
    this.#all.clear();
    this.#idle.length = 0;
    if (errors.length) throw errors[0];
  }

  #acquire(signal?: AbortSignal): Promise<Session> {
    if (this.#closed) return Promise.reject(closedError());
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    const idle = this.#idle.pop();
    if (idle) {
      this.#busy++;
      return Promise.resolve(idle);
    }
    if (this.#all.size < this.#size) {
      const session = this.#open();
      this.#all.add(session);
      this.#busy++;
      return Promise.resolve(session);
    }
    return new Promise<Session>((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        reject(abortedError(signal!));
      };
      const waiter: Waiter = {
        resolve: (session) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(session);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #release(session: Session): void {
    const next = this.#waiters.shift();
    if (next) {
      next.resolve(session); // stays busy: handed straight to the next caller
      return;
    }
    this.#busy--;
    this.#idle.push(session);
    if (this.#busy === 0 && this.#drained) {
      this.#drained();
      this.#drained = undefined;
    }
  }
}

function closedError(): CosignkitError {
  return new CosignkitError('BACKEND_UNAVAILABLE', 'the PKCS#11 key store is closed');
}

function abortedError(signal: AbortSignal): CosignkitError {
  return new CosignkitError('ABORTED', 'the operation was aborted', { cause: signal.reason });
}
