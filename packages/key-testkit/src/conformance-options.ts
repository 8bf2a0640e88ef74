import type { BackendContext, KeyAlgorithm, KeyBackend, KeyManager } from '@cosignkit/core';

/** Throws unless getting the private key of `keyId` out of the backend fails. */
export type ProveNonExtractable = (manager: KeyManager, keyId: string) => Promise<void>;

export interface ConformanceOptions {
  /** Shown in the describe() title. */
  name: string;
  /** The KeyBackend under test. */
  backend: KeyBackend;
  /**
   * A reference to a store the kit may create and delete keys in (`file:/tmp/x/`, `pkcs11:token=…`). A
   * backend without the generate capability must point it at a store that already holds a key of every
   * selected algorithm.
   */
  storeRef: () => string | Promise<string>;
  /**
   * A reference into a different store of the same backend (another token, keyring service, directory). The
   * kit then checks that the two never share one opened store (`storeIdOf`); without it that test skips.
   */
  otherStoreRef?: () => string | Promise<string>;
  /** Merged over the default context (no options, test secrets, silent logger, process.env). */
  context?: Partial<BackendContext>;
  /** The algorithms to exercise: a subset of capabilities.algorithms (default: all of them). */
  algorithms?: KeyAlgorithm[];
  /** Required when capabilities.extractable is false: throws unless extracting the private key fails. */
  proveNonExtractable?: ProveNonExtractable;
  /** Called in afterAll, after the kit closed its store. */
  teardown?: () => Promise<void>;
}
