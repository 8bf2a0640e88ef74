import type { KeyRef } from '../keys/key-ref.js';
import type { KeyBackend, SecretRequest } from './key-backend.js';
import type { KeyManager } from './key-manager.js';

/** A key reference opened: the store's manager and the id of the named key in it. */
export interface OpenedKey {
  backend: KeyBackend;
  manager: KeyManager;
  keyId: string;
  ref: KeyRef;
}

/**
 * What the roles need to reach keys: open a reference, and ask for a secret the way the opener's backends
 * would (the cosign engine needs a key file's password for its environment). The backend registry is one;
 * the agent's opener (keys opened in a long-lived process) is another, with no subclassing or proxy.
 */
export interface KeyOpener {
  open(reference: string | KeyRef): Promise<OpenedKey>;
  secret(request: SecretRequest): Promise<string>;
}
