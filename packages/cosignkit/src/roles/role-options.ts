import type { KeyOpener, Logger } from '@cosignkit/core';
import type { CredentialSource, RegistryClient } from '@cosignkit/oci';

export type EngineChoice = 'auto' | 'native' | 'cosign';

/** What createSigner, createVerifier and createAttester take. */
export interface RoleOptions {
  /** `auto` (default): cosign when a supported one is found (and can reach the key), else native. */
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
