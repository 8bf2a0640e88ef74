import { hash, type BinaryLike } from 'node:crypto';
import { crypto as sigstoreCrypto } from '@sigstore/core';

const SCRATCH = Buffer.alloc(1024);
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
    if (bytes.length === 1) return hash(algorithm, bytes[0]!, 'buffer');
    // Several small pieces (a Merkle node: prefix, left, right) are joined in a scratch buffer, not a new one:
    // hash() is synchronous and copies nothing it keeps.
    let length = 0;
    for (const piece of bytes) length += piece.length;
    if (length > SCRATCH.length) return hash(algorithm, Buffer.concat(bytes), 'buffer');
    let offset = 0;
    for (const piece of bytes) {
      SCRATCH.set(piece, offset);
      offset += piece.length;
    }
    return hash(algorithm, SCRATCH.subarray(0, length), 'buffer');
  };
  (sigstoreCrypto as { digest: typeof oneShot }).digest = oneShot;
}
