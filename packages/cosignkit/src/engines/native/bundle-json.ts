import type { HashAlgorithm } from '@cosignkit/core';

export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** protobuf-specs HashAlgorithm names, as they appear in bundle JSON. */
export const BUNDLE_HASH_NAMES: Readonly<Record<HashAlgorithm, string>> = {
  sha256: 'SHA2_256',
  sha384: 'SHA2_384',
  sha512: 'SHA2_512',
};

export interface KeyBundleInput {
  /** SHA-256 of the signing key's SPKI DER. */
  keyHint: Uint8Array;
  digestAlgorithm: HashAlgorithm;
  digest: Uint8Array;
  signature: Uint8Array;
}

/**
 * The v0.3 bundle of a key-based blob signature without a transparency log, with cosign's field order and
 * shape (`cosign sign-blob --new-bundle-format --tlog-upload=false --key …`). Like cosign (protojson), it
 * omits the empty `tlogEntries`, writes compact JSON and no trailing newline; protojson's randomized
 * whitespace is the only byte difference a reader can see.
 */
export function keyBundleJson(input: KeyBundleInput): string {
  const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
  return JSON.stringify({
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: b64(input.keyHint) } },
    messageSignature: {
      messageDigest: { algorithm: BUNDLE_HASH_NAMES[input.digestAlgorithm], digest: b64(input.digest) },
      signature: b64(input.signature),
    },
  });
}
