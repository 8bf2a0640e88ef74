import { hash, type BinaryLike } from 'node:crypto';
import { crypto as sigstoreCrypto } from '@sigstore/core';

let installed = false;

/**
 * @sigstore/core's `crypto.digest` makes a Hash object per call (createHash, update per piece, digest).
 * A verification calls it a few dozen times on small inputs (each Merkle node of an inclusion proof, the SCT's
 * issuer key, a timestamp's TSTInfo), where building the object costs more than hashing 65 bytes. The same
 * digest from node:crypto's one-shot `hash` over the pieces joined: same algorithm, same bytes, same result.
 * Anything but byte arrays (a string) goes to the original. Installed once, as public-key-cache.ts is.
 */
export function installOneShotDigest(): void {
  if (installed) return;
  installed = true;
  const original = sigstoreCrypto.digest;
  const oneShot = (algorithm: string, ...data: BinaryLike[]): Buffer => {
    if (!data.every((piece) => piece instanceof Uint8Array)) return original(algorithm, ...data);
    const bytes = data as Uint8Array[];
    return hash(algorithm, bytes.length === 1 ? bytes[0]! : Buffer.concat(bytes), 'buffer');
  };
  (sigstoreCrypto as { digest: typeof oneShot }).digest = oneShot;
}
