import { createHash } from 'node:crypto';
import { pae } from './pae.js';
import { ALGORITHMS, CosignkitError, type HashAlgorithm, type KeyManager } from '@cosignkit/core';
import type { Envelope, EnvelopeSignature } from './envelope.js';

/** One key to sign with: a KeyManager (any backend) and the key's id inside it. */
export interface EnvelopeSigner {
  manager: KeyManager;
  keyId: string;
  /** The envelope's `keyid` for this signature: the key's fingerprint when undefined; `''` as cosign writes. */
  keyid?: string;
  /**
   * The hash an ECDSA key signs the PAE with: by default the key's own (SHA-384 for P-384). cosign hashes with
   * SHA-256 for every ECDSA key, so pass `'sha256'` for envelopes stock cosign must verify.
   */
  hash?: HashAlgorithm;
}

export interface SignEnvelopeOptions {
  signal?: AbortSignal;
}

/**
 * Signs a payload with one or several keys. ECDSA keys sign the digest of the PAE (hash by curve) and give
 * DER; Ed25519 keys sign the PAE itself (pure), which is why they need `signMessage`.
 */
export async function signEnvelope(
  payloadType: string,
  payload: Uint8Array,
  signers: readonly EnvelopeSigner[],
  options: SignEnvelopeOptions = {},
): Promise<Envelope> {
  if (signers.length === 0) throw new CosignkitError('USAGE', 'signing an envelope needs at least one key');
  const message = pae(payloadType, payload);
  const signatures: EnvelopeSignature[] = [];
  for (const signer of signers) {
    signatures.push(await signOne(message, signer, options));
  }
  return { payloadType, payload: Uint8Array.from(payload), signatures };
}

async function signOne(
  message: Buffer,
  signer: EnvelopeSigner,
  options: SignEnvelopeOptions,
): Promise<EnvelopeSignature> {
  const { manager, keyId } = signer;
  const algorithm = await manager.getAlgorithm(keyId);
  let sig: Uint8Array;
  if (algorithm === 'ed25519') {
    if (!manager.signMessage) {
      throw new CosignkitError(
        'NOT_SUPPORTED',
        `the ${manager.backend} backend cannot sign messages with Ed25519 key ${keyId}`,
      );
    }
    sig = await manager.signMessage(keyId, message, { signal: options.signal });
  } else {
    const hash = signer.hash ?? ALGORITHMS[algorithm].hash;
    // A PAE is small: a backend that signs whole messages (node:crypto for software keys) is far faster than
    // signing a digest, and signMessage hashes with the key's own hash, so use it when that is the one asked.
    if (manager.signMessage && hash === ALGORITHMS[algorithm].hash) {
      sig = await manager.signMessage(keyId, message, { signal: options.signal });
    } else {
      const digest = createHash(hash).update(message).digest();
      sig = await manager.signDigest(keyId, digest, { signal: options.signal });
    }
  }
  const keyid = signer.keyid ?? (await manager.getPublicKeyFingerprint(keyId));
  return { keyid, sig };
}
