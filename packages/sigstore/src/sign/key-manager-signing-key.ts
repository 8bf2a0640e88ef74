import { createHash } from 'node:crypto';
import type { KeyAlgorithm, KeyManager } from '@cosignkit/core';
import type { SigningKey, SigningKeyMaterial } from './signing-key.js';

/**
 * Any cosignkit key (file, PKCS#11, TPM, keyring, a plugin's) as a bundle signer, for keyed signing with a
 * log (S-4): the bundle names the key by hint, base64(SHA-256(SPKI DER)) as cosign writes it.
 */
export class KeyManagerSigningKey implements SigningKey {
  #material?: Promise<SigningKeyMaterial>;

  private constructor(
    private readonly manager: KeyManager,
    private readonly keyId: string,
    readonly algorithm: KeyAlgorithm,
  ) {}

  static async open(manager: KeyManager, keyId: string): Promise<KeyManagerSigningKey> {
    return new KeyManagerSigningKey(manager, keyId, await manager.getAlgorithm(keyId));
  }

  material(): Promise<SigningKeyMaterial> {
    this.#material ??= (async () => {
      const key = await this.manager.getPublicKey(this.keyId);
      const der = key.export({ type: 'spki', format: 'der' });
      return {
        kind: 'publicKey' as const,
        hint: createHash('sha256').update(der).digest('base64'),
        pem: key.export({ type: 'spki', format: 'pem' }).toString(),
      };
    })();
    return this.#material;
  }

  async signDigest(digest: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    return this.manager.signDigest(this.keyId, digest, signal ? { signal } : {});
  }
}
