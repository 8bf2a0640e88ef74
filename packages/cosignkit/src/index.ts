export { createSigner } from './roles/signer.js';
export { createVerifier } from './roles/verifier.js';
export { COSIGNKIT_PLUGIN } from './roles/engine-choice.js';
export { resolveVerificationKey } from './roles/verification-key.js';
export type { VerificationKey } from './roles/verification-key.js';
export type { EngineChoice, RoleOptions } from './roles/role-options.js';
export { createAttester, createOciSigner, createOciVerifier, pushFileArtifact } from './roles/oci-roles.js';
export type {
  AttestArtifactOptions,
  Attester,
  OciRoleOptions,
  OciSigner,
  OciVerifier,
  RegistryPolicy,
  RegistryVerificationResult,
  SignArtifactOptions,
  SignArtifactResult,
} from './roles/oci-roles.js';
export { BUNDLE_V03_MEDIA_TYPE, keyBundleJson, nativeSignBlob, nativeVerifyBlob } from './engines/native/index.js';
export type { KeyBundleInput, NativeSignBlobOptions, NativeVerifyBlobOptions } from './engines/native/index.js';
