export type { KeyAlgorithm, KeyInfo, KeyManager, GenerateKeyOptions, SignOptions } from './contracts/key-manager.js';
export type {
  BackendCapabilities,
  BackendContext,
  KeyBackend,
  SecretProvider,
  SecretRequest,
} from './contracts/key-backend.js';
export { KEY_BACKEND_SPEC_VERSION } from './contracts/key-backend.js';
export type {
  EngineName,
  SignatureCheck,
  TimestampCheck,
  TlogEntryCheck,
  VerificationFailure,
  VerificationResult,
} from './contracts/verification-result.js';
export type {
  AttestArtifactOptions,
  AttestArtifactResult,
  AttestBlobOptions,
  AttestBlobResult,
  AttestOptions,
  AttestationPolicy,
  Attester,
  Digest,
  KeylessPolicy,
  RegistryPolicy,
  RegistryVerificationResult,
  SignArtifactOptions,
  SignArtifactResult,
  SignatureFormat,
  SignBlobOptions,
  SignBlobResult,
  Signer,
  VerifyLocalOptions,
  Verifier,
} from './contracts/roles.js';
export type {
  AttestManyInput,
  AttestManyOptions,
  BatchInputs,
  BatchItemResult,
  BatchOptions,
  SignManyInput,
  SignManyOptions,
  VerifyManyInput,
  VerifyManyOptions,
} from './contracts/batch.js';
export type { MessageSigner } from './contracts/key-manager.js';
export { CosignkitError, MALFORMED_INPUT_CODES, toCosignkitError } from './errors.js';
export type { CosignkitErrorOptions, ErrorCode } from './errors.js';
export { silentLogger } from './logger.js';
export type { Logger } from './logger.js';
export { decode as decodeKeyRefPart, formatKeyRef, parseKeyRef, redactKeyRef } from './keys/key-ref.js';
export type { KeyRef } from './keys/key-ref.js';
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
export { signPayload, verifyPayload } from './signatures/payload-signature.js';
export { BackendRegistry, BUILTIN_BACKEND_PACKAGES, environmentSecrets, storeKeyOf } from './keys/backend-registry.js';
export type { BackendRegistryOptions, ModuleImporter } from './keys/backend-registry.js';
export type { KeyOpener, OpenedKey } from './contracts/key-opener.js';
export {
  PROJECT_CONFIG_FILE,
  findProjectConfig,
  loadConfig,
  loadConfigSync,
  mergeConfig,
  updateUserConfig,
  updateConfigFile,
  readConfigFile,
  userConfigPath,
} from './config.js';
export type { CosignkitConfig } from './config.js';
export {
  assertReadableFile,
  digestFile,
  digestFileMulti,
  fileError,
  smallFileOrStream,
  streamFileTo,
} from './digest.js';
export { readBoundedFile } from './files/read-bounded-file.js';
export { closeQuietly, openRegularFile, type OpenRegularFile, SMALL_FILE_BYTES } from './files/open-regular-file.js';
export { escapeForTerminal } from './text/escape-for-terminal.js';
export type { ReadBoundedFileOptions } from './files/read-bounded-file.js';
export {
  MAX_PUBLIC_KEY_FILE_BYTES,
  firstPemLabel,
  parsePublicKeyPem,
  readPublicKeyText,
} from './keys/public-key-pem.js';
export type { ChunkSink } from './digest.js';
export { legacyBundleKey } from './signatures/legacy-bundle-key.js';
export { SIGSTORE_BUNDLE_MEDIA_TYPES, bundleShapeProblem } from './signatures/bundle-shape.js';
export { isSigstoreBundle, readBundle, readBundleJson } from './signatures/bundle-input.js';
export type { BundleSignature } from './signatures/bundle-input.js';
export { decodeSignature, readSignatureFile } from './signatures/signature-input.js';
export {
  COSIGN_EXIT,
  CosignRunner,
  EMPTY_TRUSTED_ROOT,
  cosignError,
  cosignReason,
  findCosign,
  findOnPath,
  isVerificationMismatch,
  locateCosign,
  redactArgv,
  signBlobArgs,
  verifyBlobArgs,
} from './cosign/index.js';
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
} from './cosign/index.js';
export {
  PUBLIC_OUTPUT_MODE,
  commitOutputs,
  removeQuietly,
  renameAll,
  reserveTempFile,
  tempPathFor,
} from './shared/atomic-output.js';
export { throwIfAborted } from './shared/abort.js';
export { readBoundedResponse } from './shared/bounded-response.js';
export { placeWithoutOverwrite, syncDirectory, writeFileAtomic } from './shared/atomic-write.js';
export {
  STALE_TEMP_AGE_MS,
  isAlive,
  removeStaleTemps,
  removeStaleTempsOnce,
  staleTemps,
  targetOfTemp,
} from './shared/stale-temps.js';
export type { StaleTempOptions } from './shared/stale-temps.js';
export type { AtomicWriteOptions } from './shared/atomic-write.js';
export { parseDuration } from './shared/duration.js';
export type { PendingOutput } from './shared/atomic-output.js';
