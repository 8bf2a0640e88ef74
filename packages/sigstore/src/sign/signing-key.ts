import type { KeyAlgorithm } from '@cosignkit/core';

/** What a bundle says about who signed: a Fulcio certificate (keyless) or a key hint (keyed). */
export type SigningKeyMaterial =
  | {
      kind: 'certificate';
      der: Buffer;
      pem: string;
      /** The CA's certificates above the leaf (PEM, intermediates first), as Fulcio returned them. */
      chain?: string[];
    }
  | { kind: 'publicKey'; hint: string; pem: string };

/**
 * One key that signs digests for bundles: the ephemeral key with its Fulcio certificate, or any KeyManager
 * key (S-4). `material()` may fetch (a certificate) and is what Rekor and the bundle are given.
 */
export interface SigningKey {
  readonly algorithm: KeyAlgorithm;
  /** ECDSA (DER) over a digest computed with the key's hash. */
  signDigest(digest: Uint8Array, signal?: AbortSignal): Promise<Uint8Array>;
  material(signal?: AbortSignal): Promise<SigningKeyMaterial>;
  /**
   * Both at once, of one and the same key (a key that may be replaced between two calls has this); without
   * it, signDigest then material.
   */
  signDigestWithMaterial?(
    digest: Uint8Array,
    signal?: AbortSignal,
  ): Promise<{ signature: Uint8Array; material: SigningKeyMaterial }>;
}
