import type { KeyOpener, Logger } from '@cosignkit/core';
import type { CredentialSource, RegistryClient } from '@cosignkit/oci';

export type EngineChoice = 'auto' | 'native' | 'cosign';

/** What createSigner, createVerifier and createAttester take. */
export interface RoleOptions {
  /**
   * `auto` (default): a key file goes through the real cosign when a supported one is found (cosignPath,
   * COSIGN_PATH, else PATH); every other key, and everything when no cosign is found, runs native. Backend
   * keys reach cosign (through the sigstore-kms-cosignkit plugin) only with `cosign`.
   */
  engine?: EngineChoice;
  /** Opens key references and asks for passwords: the backend registry, or the agent's opener. */
  keys: KeyOpener;
  logger?: Logger;
  /** The environment for cosign and for finding it (COSIGN_PATH, PATH). Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** An explicit cosign binary (else COSIGN_PATH, then PATH). */
  cosignPath?: string;
  /** The configured default key (`config.defaultKey`), used when an operation names no key. */
  defaultKey?: string;
  /** `config.fallbackKey`: used when an operation names no key and the default key's backend is unavailable. */
  fallbackKey?: string;
  /** Milliseconds before a cosign run is stopped. */
  cosignTimeoutMs?: number;
  /** Registries: plain HTTP to registries other than loopback (--allow-http-registry / --allow-insecure-registry). */
  allowHttp?: boolean;
  /** Registries: credentials (default: the docker config files). */
  credentials?: CredentialSource;
  /** Registries: the deadline of each exchange with the registry (RegistryClientOptions.timeoutMs); default 3 minutes. */
  registryTimeoutMs?: number;
  /** Registries: a client to share (its token cache) across roles. */
  client?: RegistryClient;
}
