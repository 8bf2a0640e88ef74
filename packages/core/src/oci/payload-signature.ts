import { createHash, verify as verifySignature, type KeyObject } from 'node:crypto';
import type { KeyManager } from '../contracts/key-manager.js';
import { ALGORITHMS, algorithmOfKey, rawToDer } from '../keys/algorithms.js';

/** Signs bytes as cosign signs payloads: ECDSA over the key's hash (DER), Ed25519 over the message. */
export async function signPayload(manager: KeyManager, keyId: string, payload: Uint8Array, signal?: AbortSignal): Promise<Buffer> {
  const algorithm = await manager.getAlgorithm(keyId);
  const signature = algorithm === 'ed25519'
    ? await manager.signMessage!(keyId, payload, { signal })
    : await manager.signDigest(keyId, createHash(ALGORITHMS[algorithm].hash).update(payload).digest(), { signal });
  return Buffer.from(signature);
}

/** True when `signature` (DER, or raw r‖s for ECDSA) over `payload` verifies with `key`; never throws. */
export function verifyPayload(key: KeyObject, payload: Uint8Array, signature: Uint8Array): boolean {
  try {
    const algorithm = algorithmOfKey(key);
    if (algorithm === 'ed25519') return verifySignature(null, payload, key, signature);
    const { hash, coordinateLength } = ALGORITHMS[algorithm];
    if (verifySignature(hash, payload, key, signature)) return true;
    return signature.length === 2 * coordinateLength! && verifySignature(hash, payload, key, rawToDer(signature));
  } catch {
    // OpenSSL throws on garbage DER: for a verifier that is "does not verify".
    return false;
  }
}
