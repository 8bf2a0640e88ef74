import { CosignkitError } from '@cosignkit/core';
import type { AsyncEntry } from '@napi-rs/keyring';
import { keyringError } from './keyring-errors.js';
import type { NativeKeyring } from './native-keyring.js';

/**
 * The entries of one keyring service, one native `AsyncEntry` per account, kept for the life of the store
 * (creating one opens a D-Bus connection: 6–8 ms; a read on an existing one is under 1 ms).
 */
export class KeyringEntryStore {
  readonly service: string;
  readonly #native: NativeKeyring;
  readonly #timeoutMs: number;
  readonly #entries = new Map<string, AsyncEntry>();

  constructor(native: NativeKeyring, service: string, timeoutMs: number) {
    this.#native = native;
    this.service = service;
    this.#timeoutMs = timeoutMs;
  }

  /** The stored string, or null when the account has no entry. */
  get(account: string, doing: string): Promise<string | null> {
    return this.#call(account, doing, (entry, signal) => entry.getPassword(signal));
  }

  set(account: string, value: string, doing: string): Promise<void> {
    return this.#call(account, doing, (entry, signal) => entry.setPassword(value, signal));
  }

  /** True when an entry was deleted, false when there was none. */
  delete(account: string, doing: string): Promise<boolean> {
    return this.#call(account, doing, (entry, signal) => entry.deleteCredential(signal));
  }

  /** Forgets an account's native entry (after a delete: the key is gone). */
  forget(account: string): void {
    this.#entries.delete(account);
  }

  close(): void {
    this.#entries.clear();
  }

  #entry(account: string): AsyncEntry {
    let entry = this.#entries.get(account);
    if (!entry) {
      // Naming the store is what stops keyring-rs from silently falling back to the kernel keyring
      // (keyutils) when no Secret Service answers: we want an error there, not a key in a different place.
      entry = new this.#native.AsyncEntry(this.service, account, { linux: { store: 'secret-service' } });
      this.#entries.set(account, entry);
    }
    return entry;
  }

  async #call<T>(
    account: string,
    doing: string,
    run: (entry: AsyncEntry, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      // The constructor talks to D-Bus synchronously; it fails fast (measured < 3 ms) rather than hanging.
      const entry = this.#entry(account);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(
            new CosignkitError(
              'TIMEOUT',
              `OS keyring: ${doing} got no answer within ${this.#timeoutMs} ms (is the Secret Service hung, or waiting on an unlock prompt?)`,
            ),
          );
        }, this.#timeoutMs);
      });
      return await Promise.race([run(entry, controller.signal), timeout]);
    } catch (error) {
      throw keyringError(error, doing);
    } finally {
      clearTimeout(timer);
    }
  }
}
