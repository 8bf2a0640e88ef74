import { keyringBackend } from './keyring-backend.js';

/** The KeyBackend for `keyring:<service>/<account>` references. */
export const backend = keyringBackend();

export { DESKTOP_TIMEOUT_MS, HEADLESS_TIMEOUT_MS, keyringBackend, timeoutOf } from './keyring-backend.js';
export type { KeyringBackendOptions } from './keyring-backend.js';
export { KEYRING_ALGORITHMS, KeyringKeyManager } from './keyring-key-manager.js';
export { KeyringEntryStore } from './keyring-entry-store.js';
export {
  DEFAULT_SERVICE,
  INDEX_ACCOUNT,
  SERVICES_ACCOUNT,
  formatKeyringRef,
  keyringLocationOf,
} from './keyring-ref.js';
export type { KeyringLocation } from './keyring-ref.js';
export { keyringError } from './keyring-errors.js';
export type { NativeKeyring } from './native-keyring.js';
