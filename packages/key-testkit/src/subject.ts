import type { BackendContext, KeyBackend, KeyManager } from '@cosignkit/core';

/** The backend under test and one store opened through it. Every check takes one. */
export interface Subject {
  backend: KeyBackend;
  /** The store the kit generates its keys in, opened from `storeRef`. */
  manager: KeyManager;
  context: BackendContext;
  storeRef: string;
}
