// The signing entry (`@cosignkit/sigstore/sign`): what a keyless or keyed-log signing command needs once its
// Fulcio request is on its way (keyless.ts starts it) to sign, log and build the bundle, without the
// verification half of this package (@sigstore/verify, @sigstore/core's X.509 and ASN.1, the trusted roots,
// the identity policy). A command that checks its new bundle against a trusted root loads the main entry too.
export { BUNDLE_V03_MEDIA_TYPE, BundleSigner } from './sign/bundle-signer.js';
export type { BundleSignerOptions } from './sign/bundle-signer.js';
export { createKeyedLogSigner, createKeylessSigner } from './sign/create-bundle-signer.js';
export type { KeylessSignerOptions } from './sign/create-bundle-signer.js';
