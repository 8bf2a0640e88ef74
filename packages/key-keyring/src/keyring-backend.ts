import {
  CosignkitError,
  KEY_BACKEND_SPEC_VERSION,
  type BackendContext,
  type KeyBackend,
  type KeyRef,
} from '@cosignkit/core';
import { KeyringEntryStore } from './keyring-entry-store.js';
import { KEYRING_ALGORITHMS, KeyringKeyManager } from './keyring-key-manager.js';
import { DEFAULT_SERVICE, isWholeKeyring, keyringLocationOf } from './keyring-ref.js';
import { loadNativeKeyring, type NativeKeyring } from './native-keyring.js';

export interface KeyringBackendOptions {
  /** Supplies the native module (tests); @napi-rs/keyring by default, loaded on first open. */
  loadNative?: () => Promise<NativeKeyring>;
}

/** Headless, nothing can show an unlock prompt: anything slower than this is a hang, not a person typing. */
export const HEADLESS_TIMEOUT_MS = 1_000;
/** With a desktop session the OS may be showing an unlock prompt; give the person time to answer it. */
export const DESKTOP_TIMEOUT_MS = 60_000;

export function keyringBackend(options: KeyringBackendOptions = {}): KeyBackend {
  const loadNative = options.loadNative ?? loadNativeKeyring;
  return {
    specVersion: KEY_BACKEND_SPEC_VERSION,
    name: 'keyring',
    schemes: ['keyring'],
    // Software keys: the keyring encrypts them at rest, but they are decrypted into this process to sign.
    capabilities: { generate: true, delete: true, algorithms: KEYRING_ALGORITHMS, extractable: true },
    async open(ref: KeyRef, context: BackendContext) {
      const { service } = keyringLocationOf(ref);
      const native = await loadNative();
      const timeout = timeoutOf(context);
      const store = new KeyringEntryStore(native, service, timeout);
      const open = (name: string) => new KeyringEntryStore(native, name, timeout);
      const home = service === DEFAULT_SERVICE ? store : open(DEFAULT_SERVICE);
      return new KeyringKeyManager(store, context.logger, { home, open, listAll: isWholeKeyring(ref) });
    },
    keyIdOf(ref: KeyRef) {
      return keyringLocationOf(ref).account;
    },
    // One store per service: keyring:a/x and keyring:b/y must not share a manager in the registry's cache.
    // `keyring:` (every service, for key list) is a store of its own.
    storeIdOf(ref: KeyRef) {
      return isWholeKeyring(ref) ? '' : keyringLocationOf(ref).service;
    },
  };
}

/** `backends.keyring.timeoutMs` in the config, else COSIGNKIT_KEYRING_TIMEOUT_MS, else by session kind. */
export function timeoutOf(context: Pick<BackendContext, 'options' | 'env'>): number {
  const configured = context.options.timeoutMs ?? context.env.COSIGNKIT_KEYRING_TIMEOUT_MS;
  if (configured !== undefined && configured !== '') {
    const value = Number(configured);
    if (!Number.isFinite(value) || value <= 0) {
      throw new CosignkitError(
        'USAGE',
        `keyring timeout must be a positive number of milliseconds, got ${JSON.stringify(configured)}`,
      );
    }
    return value;
  }
  const headless = process.platform === 'linux' && !context.env.DISPLAY && !context.env.WAYLAND_DISPLAY;
  return headless ? HEADLESS_TIMEOUT_MS : DESKTOP_TIMEOUT_MS;
}
