export type { KeyAlgorithm, KeyInfo, KeyManager, GenerateKeyOptions, SignOptions } from './contracts/key-manager.js';
export type {
  BackendCapabilities,
  BackendContext,
  KeyBackend,
  SecretProvider,
  SecretRequest,
} from './contracts/key-backend.js';
export { KEY_BACKEND_SPEC_VERSION } from './contracts/key-backend.js';
export type { EngineName, SignatureCheck, VerificationFailure, VerificationResult } from './contracts/verification-result.js';
export type { SignBlobOptions, SignBlobResult, Signer, VerifyLocalOptions, Verifier } from './contracts/roles.js';
export { CosignkitError, MALFORMED_INPUT_CODES, toCosignkitError } from './errors.js';
export type { CosignkitErrorOptions, ErrorCode } from './errors.js';
export { silentLogger } from './logger.js';
export type { Logger } from './logger.js';
export { formatKeyRef, parseKeyRef, redactKeyRef } from './keys/key-ref.js';
export type { KeyRef } from './keys/key-ref.js';
export { parsePkcs11Uri } from './keys/pkcs11-uri.js';
export type { Pkcs11Uri } from './keys/pkcs11-uri.js';
export {
  ALGORITHMS,
  KEY_ALGORITHMS,
  algorithmOfKey,
  assertDigestLength,
  fingerprintOf,
  isKeyAlgorithm,
  publicKeyPem,
  rawToDer,
  spkiDer,
} from './keys/algorithms.js';
export type { HashAlgorithm } from './keys/algorithms.js';
export { prepareEcdsaDigestSigner, signEcdsaDigest } from './keys/software-ecdsa.js';
export { pae } from './signatures/pae.js';
export { signPayload, verifyPayload } from './signatures/payload-signature.js';
export { BackendRegistry, BUILTIN_BACKEND_PACKAGES, environmentSecrets, storeKeyOf } from './keys/backend-registry.js';
export type { BackendRegistryOptions, ModuleImporter, OpenedKey } from './keys/backend-registry.js';
export { PROJECT_CONFIG_FILE, findProjectConfig, loadConfig, mergeConfig, updateUserConfig, userConfigPath } from './config.js';
export type { CosignkitConfig } from './config.js';
export { assertReadableFile, digestFile, digestFileMulti, fileError, streamFileTo } from './digest.js';
export { readBoundedFile } from './files/read-bounded-file.js';
export { escapeForTerminal } from './text/escape-for-terminal.js';
export type { ReadBoundedFileOptions } from './files/read-bounded-file.js';
export { MAX_PUBLIC_KEY_FILE_BYTES, firstPemLabel, parsePublicKeyPem, readPublicKeyText } from './keys/public-key-pem.js';
export type { ChunkSink } from './digest.js';
export { createSigner, createVerifier, resolveVerificationKey, COSIGNKIT_PLUGIN } from './roles/index.js';
export type { EngineChoice, RoleOptions, VerificationKey } from './roles/index.js';
export {
  BUNDLE_V03_MEDIA_TYPE,
  decodeSignature,
  isSigstoreBundle,
  keyBundleJson,
  nativeSignBlob,
  nativeVerifyBlob,
  readBundle,
  readBundleJson,
  readSignatureFile,
} from './engines/native/index.js';
export type { BundleSignature, KeyBundleInput, NativeSignBlobOptions, NativeVerifyBlobOptions } from './engines/native/index.js';
export {
  COSIGN_EXIT,
  CosignRunner,
  EMPTY_TRUSTED_ROOT,
  cosignError,
  findCosign,
  findOnPath,
  isVerificationMismatch,
  locateCosign,
  redactArgv,
  signBlobArgs,
  verifyBlobArgs,
} from './engines/cosign/index.js';
export type {
  CosignGrammar,
  CosignInfo,
  CosignRunOptions,
  CosignRunOutput,
  CosignRunnerOptions,
  CosignSignBlobOptions,
  CosignVerifyBlobOptions,
  FindCosignOptions,
  SignBlobArgs,
  VerifyBlobArgs,
} from './engines/cosign/index.js';
export { commitOutputs, tempPathFor } from './engines/atomic-output.js';
export type { PendingOutput } from './engines/atomic-output.js';
export {
  RegistryClient,
  REGISTRY_LIMITS,
  sha256Digest,
  dockerConfigCredentials,
  parseImageReference,
  formatImageReference,
  repositoryName,
  isLoopbackRegistry,
  MEDIA_TYPES,
  resolveImage,
  signImage,
  verifyImageSignatures,
  attestImage,
  verifyImageAttestations,
  listAttachments,
  cleanAttachments,
  downloadSignatures,
  downloadAttestations,
  signatureTag,
  COSIGN_SIGN_PREDICATE,
  createOciSigner,
  createOciVerifier,
  createAttester,
  pushFileArtifact,
} from './oci/index.js';
export type {
  RegistryClientOptions,
  Repository,
  CredentialSource,
  RegistryCredentials,
  ImageReference,
  ResolvedImage,
  SignatureFormat,
  FoundSignature,
  ImageVerification,
  ImageSubject,
  Attachment,
  AttachmentKind,
  OciRoleOptions,
  SignArtifactOptions,
  SignArtifactResult,
  RegistryPolicy,
  RegistryVerificationResult,
  AttestArtifactOptions,
  OciSigner,
  OciVerifier,
  Attester,
} from './oci/index.js';
