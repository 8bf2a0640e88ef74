// Trust material: which roots keyless verification trusts, and where they came from.
export { describeOrigin } from './trust/trusted-root-source.js';
export type { LoadedTrustedRoot, SigstoreInstance, TrustedRootOrigin } from './trust/trusted-root-source.js';
export { PUBLIC_GOOD_TUF_URL, STAGING_TUF_URL, embeddedTrustedRoot } from './trust/embedded-root.js';
export { parseTrustedRoot } from './trust/parse-trusted-root.js';
export { TRUSTED_ROOT_SIZE_LIMIT, cosignkitCacheDir, loadTrustedRoot } from './trust/load-trusted-root.js';
export type { LoadTrustedRootOptions } from './trust/load-trusted-root.js';

// Identity policy: cosign's --certificate-* flags.
export { compileGoRegexp, goRegexpMatches } from './policy/go-regexp.js';
export type { GoRegexp } from './policy/go-regexp.js';
export { fulcioExtensions, subjectAlternativeNames } from './policy/fulcio-extensions.js';
export type { FulcioExtensions } from './policy/fulcio-extensions.js';
export { compileIdentityPolicy, evaluateIdentityPolicy } from './policy/identity-policy.js';
export type {
  GithubWorkflowField,
  IdentityPolicy,
  IdentityPolicyInput,
  SignerIdentity,
} from './policy/identity-policy.js';

// Verification of keyless bundles.
export { parseBundle } from './verify/parse-bundle.js';
export { verifyBundle } from './verify/verify-bundle.js';
export type { ArtifactInput, KeylessVerification, VerifyBundleOptions } from './verify/verify-bundle.js';
export {
  BUNDLE_SIZE_LIMIT,
  IN_MEMORY_ARTIFACT_LIMIT,
  parseArtifactDigest,
  readArtifact,
  readBundleFile,
  verifyBundleFile,
} from './verify/verify-bundle-file.js';

// Identity tokens for keyless signing.
export { IDENTITY_TOKEN_SIZE_LIMIT, parseIdentityToken } from './identity/identity-token.js';
export type { IdentityTokenClaims } from './identity/identity-token.js';
export { resolveIdentityToken } from './identity/resolve-identity-token.js';
export type { ResolveIdentityTokenOptions, ResolvedIdentityToken } from './identity/resolve-identity-token.js';
export { fetchGithubActionsToken } from './identity/github-actions-token.js';

// Signing: keyless (Fulcio) and keyed with a log (S-4), into v0.3 bundles.
export { BUNDLE_V03_MEDIA_TYPE, BundleSigner } from './sign/bundle-signer.js';
export type { BundleSignerOptions } from './sign/bundle-signer.js';
export { EphemeralCertificateKey } from './sign/ephemeral-certificate-key.js';
export type { EphemeralCertificateKeyOptions } from './sign/ephemeral-certificate-key.js';
export { KeyManagerSigningKey } from './sign/key-manager-signing-key.js';
export type { SigningKey, SigningKeyMaterial } from './sign/signing-key.js';
export {
  PUBLIC_GOOD_FULCIO_URL,
  PUBLIC_GOOD_REKOR_URL,
  SIGNING_CONFIG_SIZE_LIMIT,
  resolveSigningServices,
} from './sign/signing-services.js';
export type { ResolveSigningServicesOptions, SigningServices } from './sign/signing-services.js';
export { createKeyedLogSigner, createKeylessSigner } from './sign/create-bundle-signer.js';
export type { KeylessSignerOptions } from './sign/create-bundle-signer.js';

// cosign's pre-bundle keyless material (legacy blob bundles, --certificate/--signature, image layer annotations).
export { cosignLegacyBundle } from './verify/cosign-legacy-bundle.js';
export type { CosignLegacyMaterial } from './verify/cosign-legacy-bundle.js';
export { COSIGN_LAYER_ANNOTATIONS, verifyCosignLayerSignature } from './verify/verify-cosign-signature.js';
export type { CosignSignedContent } from './verify/verify-cosign-signature.js';
export { verifyCertificateSignature } from './verify/verify-certificate-signature.js';
export type { CertificateSignatureFiles } from './verify/verify-certificate-signature.js';
export { checkNewTimestamps } from './sign/check-new-timestamps.js';
export {
  DEFAULT_OIDC_CLIENT_ID,
  PUBLIC_GOOD_OIDC_ISSUER,
  interactiveIdentityToken,
} from './identity/interactive-token.js';
export type { InteractiveFlow, InteractiveTokenOptions } from './identity/interactive-token.js';
