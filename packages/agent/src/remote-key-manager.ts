import type { KeyObject } from 'node:crypto';
import type { GenerateKeyOptions, KeyAlgorithm, KeyInfo, KeyManager } from '@cosignkit/core';
import type { AgentClient, SecretSource } from './client.js';

/**
 * A KeyManager whose store lives in the agent: each call is one request naming the key reference, so the agent
 * may have closed and reopened the store between calls (its time-to-live) without the caller noticing.
 */
export class AgentKeyManager implements KeyManager {
  readonly backend: string;
  readonly #client: AgentClient;
  readonly #ref: string;
  readonly #secrets: SecretSource | undefined;

  constructor(options: {
    client: AgentClient;
    /** An absolute reference (see absoluteRef): the agent's working directory is not the caller's. */
    ref: string;
    backend: string;
    secrets?: SecretSource;
  }) {
    this.backend = options.backend;
    this.#client = options.client;
    this.#ref = options.ref;
    this.#secrets = options.secrets;
  }

  async #call<T>(method: string, args: unknown[]): Promise<T> {
    return (await this.#client.request({ op: 'key', ref: this.#ref, method, args }, this.#secrets)) as T;
  }

  generateKeyPair(options: GenerateKeyOptions = {}): Promise<KeyInfo> {
    const { signal: _signal, ...rest } = options;
    return this.#call('generateKeyPair', [rest]);
  }

  async getPublicKey(id: string): Promise<KeyObject> {
    // Loaded here only: createPublicKey is needed by no request of the plugin's fast path through the agent.
    const { createPublicKey } = await import('node:crypto');
    return createPublicKey(await this.getPublicKeyPem(id));
  }

  getPublicKeyPem(id: string): Promise<string> {
    return this.#call('getPublicKeyPem', [id]);
  }

  getPublicKeyFingerprint(id: string): Promise<string> {
    return this.#call('getPublicKeyFingerprint', [id]);
  }

  signDigest(id: string, digest: Uint8Array): Promise<Uint8Array> {
    return this.#call('signDigest', [id, digest]);
  }

  signMessage(id: string, message: Uint8Array): Promise<Uint8Array> {
    return this.#call('signMessage', [id, message]);
  }

  verifySignature(id: string, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
    return this.#call('verifySignature', [id, signature, message]);
  }

  getAlgorithm(id: string): Promise<KeyAlgorithm> {
    return this.#call('getAlgorithm', [id]);
  }

  listKeys(): Promise<KeyInfo[]> {
    return this.#call('listKeys', []);
  }

  deleteKey(id: string): Promise<void> {
    return this.#call('deleteKey', [id]);
  }

  /** The store stays open in the agent (that is its purpose); nothing to release here. */
  async close(): Promise<void> {}
}

/** What the agent answers to `open`. */
export interface AgentOpened {
  keyId: string;
  backend: string;
  algorithm?: KeyAlgorithm;
}

/** Opens a key through the agent: the store is opened there, and a proxy manager comes back. */
export async function openThroughAgent(
  client: AgentClient,
  ref: string,
  secrets?: SecretSource,
): Promise<AgentOpened & { manager: AgentKeyManager }> {
  const opened = (await client.request({ op: 'open', ref }, secrets)) as AgentOpened;
  return { ...opened, manager: new AgentKeyManager({ client, ref, backend: opened.backend, secrets }) };
}
