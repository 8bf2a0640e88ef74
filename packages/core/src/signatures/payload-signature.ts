import { createHash, verify as verifySignature, type KeyObject } from 'node:crypto';
import type { KeyManager } from '../contracts/key-manager.js';
import { ALGORITHMS, algorithmOfKey, rawToDer } from '../keys/algorithms.js';

/**
 * Signs bytes as cosign signs image payloads with a key: ECDSA over SHA-256 whatever the curve (cosign's
 * default --signature-digest-algorithm, which `cosign verify` also assumes), DER; Ed25519 over the message.
 */
export async function signPayload(
  manager: KeyManager,
  keyId: string,
  payload: Uint8Array,
  signal?: AbortSignal,
): Promise<Buffer> {
  const algorithm = await manager.getAlgorithm(keyId);
  const signature =
    algorithm === 'ed25519'
      ? await manager.signMessage!(keyId, payload, { signal })
      : await manager.signDigest(keyId, createHash('sha256').update(payload).digest(), { signal });
  return Buffer.from(signature);
}

/**
 * True when `signature` (DER, or raw r‖s for ECDSA) over `payload` verifies with `key`, over SHA-256 (cosign)
 * or the curve's own hash; never throws.
 */
export function verifyPayload(key: KeyObject, payload: Uint8Array, signature: Uint8Array): boolean {
  try {
    const algorithm = algorithmOfKey(key);
    if (algorithm === 'ed25519') return verifySignature(null, payload, key, signature);
    const { hash, coordinateLength } = ALGORITHMS[algorithm];
    const hashes = [...new Set(['sha256', hash])];
    if (hashes.some((h) => verifySignature(h, payload, key, signature))) return true;
    const raw = signature.length === 2 * coordinateLength!;
    return raw && hashes.some((h) => verifySignature(h, payload, key, rawToDer(signature)));
  } catch {
    // OpenSSL throws on garbage DER: for a verifier that is "does not verify".
    return false;
  }
}
