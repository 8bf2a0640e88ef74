import type { KeyRef } from '../keys/key-ref.js';
import type { Logger } from '../logger.js';
import type { KeyAlgorithm, KeyManager } from './key-manager.js';

/** The version of the KeyBackend contract this core speaks; the registry refuses any other. */
export const KEY_BACKEND_SPEC_VERSION = 1;

export interface BackendCapabilities {
  generate: boolean;
  delete: boolean;
  algorithms: readonly KeyAlgorithm[];
  /** False when private keys cannot be read out of the backend (hardware). */
  extractable: boolean;
}

/** A request for a secret the backend cannot find on its own. Never contains the secret itself. */
export interface SecretRequest {
  kind: 'password' | 'pin';
  /** `create` asks twice on a terminal. */
  purpose: 'unlock' | 'create';
  /** What the secret is for, safe to show (a redacted key reference). */
  subject: string;
}

export type SecretProvider = (request: SecretRequest) => Promise<string>;

export interface BackendContext {
  /** This backend's options from the config files (`backends.<name>` objects), already merged. */
  options: Readonly<Record<string, unknown>>;
  /** Supplies passwords and PINs (COSIGN_PASSWORD, a prompt, stdin… as the caller decides). */
  secrets: SecretProvider;
  logger: Logger;
  env: Readonly<Record<string, string | undefined>>;
}

/** What a backend package exports (named `backend`, or as its default export). */
export interface KeyBackend {
  readonly specVersion: typeof KEY_BACKEND_SPEC_VERSION;
  readonly name: string;
  /** Key-reference schemes this backend answers for, e.g. `['pkcs11']`. */
  readonly schemes: readonly string[];
  readonly capabilities: BackendCapabilities;
  /**
   * Opens the key store a reference points into. A reference with an empty path (`tpm:`) opens the default
   * store, for listing and generating.
   */
  open(ref: KeyRef, context: BackendContext): Promise<KeyManager>;
  /** The id, inside the opened store, of the key a reference names. */
  keyIdOf(ref: KeyRef): string;
  /**
   * Optional: which store a reference opens, for the registry's cache of opened stores (two references with
   * the same answer share one KeyManager). Needed when the store is named in the path, as the keyring
   * service is in `keyring:<service>/<account>`; without it the registry keys stores by the query only.
   */
  storeIdOf?(ref: KeyRef): string;
}
