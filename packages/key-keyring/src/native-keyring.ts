import { CosignkitError } from '@cosignkit/core';
import type * as Native from '@napi-rs/keyring';

export type NativeKeyring = Pick<typeof Native, 'AsyncEntry'>;

let loading: Promise<NativeKeyring> | undefined;

/** Loads @napi-rs/keyring on first use: the native addon is only needed once a keyring key is touched. */
export function loadNativeKeyring(): Promise<NativeKeyring> {
  loading ??= import('@napi-rs/keyring').then(
    (mod) => {
      const api = (
        (mod as { AsyncEntry?: unknown }).AsyncEntry ? mod : (mod as { default: NativeKeyring }).default
      ) as NativeKeyring;
      if (typeof api?.AsyncEntry !== 'function') throw new Error('@napi-rs/keyring has no AsyncEntry export');
      return api;
    },
    (error: unknown) => {
      loading = undefined;
      throw new CosignkitError(
        'BACKEND_UNAVAILABLE',
        `cannot load @napi-rs/keyring (${(error as Error).message}): reinstall @cosignkit/key-keyring for this platform`,
        { cause: error },
      );
    },
  );
  return loading;
}
