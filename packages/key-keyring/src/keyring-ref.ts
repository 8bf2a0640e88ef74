import { CosignkitError, redactKeyRef, type KeyRef } from '@cosignkit/core';

/** The service a reference names when it gives only an account (`keyring:release`). */
export const DEFAULT_SERVICE = 'cosignkit';

/** The account, in every service we use, that holds the list of keys (no OS can list entries the same way). */
export const INDEX_ACCOUNT = '.cosignkit-index';

/** The account, in the default service only, that lists every service cosignkit made keys in. */
export const SERVICES_ACCOUNT = '.cosignkit-services';

/** Accounts that hold cosignkit's own bookkeeping, never a key. */
export function isReservedAccount(account: string): boolean {
  return account === INDEX_ACCOUNT || account === SERVICES_ACCOUNT;
}

export interface KeyringLocation {
  service: string;
  /** Empty for a reference to the store itself (`keyring:`, `keyring:<service>/`). */
  account: string;
}

/** `keyring:` alone: the whole keyring as cosignkit uses it (list: every service; generate: the default). */
export function isWholeKeyring(ref: KeyRef): boolean {
  return ref.path === '';
}

/**
 * `keyring:<service>/<account>`, `keyring:<account>` (service `cosignkit`), `keyring:<service>/` and
 * `keyring:` (the store, for list and generate). Both parts may be percent-encoded; the account may hold `/`.
 */
export function keyringLocationOf(ref: KeyRef): KeyringLocation {
  const invalid = (why: string): CosignkitError =>
    new CosignkitError(
      'KEY_REF_INVALID',
      `key reference ${redactKeyRef(ref.text)}: ${why} (use keyring:<service>/<account>)`,
    );
  if (ref.path.startsWith('/')) throw invalid('the service is empty');
  const slash = ref.path.indexOf('/');
  const service = slash < 0 ? DEFAULT_SERVICE : decodePart(ref.path.slice(0, slash), invalid);
  const account = decodePart(slash < 0 ? ref.path : ref.path.slice(slash + 1), invalid);
  if (isReservedAccount(account)) throw invalid(`"${account}" is reserved for cosignkit's key index`);
  return { service, account };
}

export function formatKeyringRef(service: string, account: string): string {
  return `keyring:${encodeURIComponent(service)}/${encodeURIComponent(account)}`;
}

function decodePart(text: string, invalid: (why: string) => CosignkitError): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid('bad percent-encoding');
  }
}
