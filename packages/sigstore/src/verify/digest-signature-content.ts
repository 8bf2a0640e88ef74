import type { KeyObject } from 'node:crypto';
import { crypto as sigstoreCrypto } from '@sigstore/core';
import { createRequire } from 'node:module';

type NistModule = typeof import('@noble/curves/nist.js');
let nist: NistModule | undefined;

/** Loaded on first use (~0.1 s of module set-up): only the sha256:<hex> and huge-file paths need it. */
function nistCurves(): NistModule {
  nist ??= createRequire(import.meta.url)('@noble/curves/nist.js') as NistModule;
  return nist;
}

/**
 * The signature of a message-signature bundle checked against the artifact's digest alone (the
 * `sha256:<hex>` artifact form, and files too large to hold in memory). node:crypto cannot verify ECDSA over
 * a precomputed digest (it hashes again), so the check runs on @noble/curves with `prehash: false`.
 * High-S signatures are accepted, as Go's crypto/ecdsa accepts them.
 */
export class DigestSignatureContent {
  readonly signature: Buffer;
  private readonly digest: Buffer;

  constructor(signature: Buffer, digest: Buffer) {
    this.signature = signature;
    this.digest = digest;
  }

  compareSignature(signature: Buffer): boolean {
    return sigstoreCrypto.bufferEqual(signature, this.signature);
  }

  compareDigest(digest: Buffer): boolean {
    return sigstoreCrypto.bufferEqual(digest, this.digest);
  }

  compareSignedDigest(digest: Buffer): boolean {
    return this.compareDigest(digest);
  }

  verifySignature(key: KeyObject): boolean {
    if (key.asymmetricKeyType !== 'ec') return false;
    const { p256, p384, p521 } = nistCurves();
    const curve = { prime256v1: p256, secp384r1: p384, secp521r1: p521 }[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!curve) return false;
    const jwk = key.export({ format: 'jwk' });
    const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
    try {
      return curve.verify(this.signature, this.digest, point, { prehash: false, format: 'der', lowS: false });
    } catch {
      return false;
    }
  }
}
