import { hash, type BinaryLike } from 'node:crypto';
import { crypto as sigstoreCrypto } from '@sigstore/core';

const SCRATCH = Buffer.alloc(1024);
/** SCRATCH's first n bytes, by n: made on first use. */
const VIEWS: Buffer[] = [];
const SMALL_PIECE = 64;
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
    let length = 0;
    for (let i = 0; i < data.length; i++) {
      const piece = data[i];
      if (!(piece instanceof Uint8Array)) return original(algorithm, ...data);
      length += piece.length;
    }
    if (data.length === 1) return hash(algorithm, data[0] as Uint8Array, 'buffer');
    if (length > SCRATCH.length) return hash(algorithm, Buffer.concat(data as Uint8Array[]), 'buffer');
    // Several small pieces (a Merkle node: prefix, left, right) are joined in a scratch buffer, not a new one:
    // hash() is synchronous and copies nothing it keeps. A hash-sized piece is copied byte by byte (a typed
    // array's set() costs more than 32 bytes' worth of plain stores), and the view of each length is made once.
    let offset = 0;
    for (let i = 0; i < data.length; i++) {
      const piece = data[i] as Uint8Array;
      if (piece.length <= SMALL_PIECE) {
        for (let j = 0; j < piece.length; j++) SCRATCH[offset + j] = piece[j]!;
      } else {
        SCRATCH.set(piece, offset);
      }
      offset += piece.length;
    }
    let view = VIEWS[length];
    if (view === undefined) {
      view = SCRATCH.subarray(0, length);
      VIEWS[length] = view;
    }
    return hash(algorithm, view, 'buffer');
  };
  (sigstoreCrypto as { digest: typeof oneShot }).digest = oneShot;
}
