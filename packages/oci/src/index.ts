export { RegistryClient, sha256Digest } from './registry-client.js';
export type { RegistryClientOptions, Repository } from './registry-client.js';
export { REGISTRY_LIMITS } from './registry-limits.js';
export { dockerConfigCredentials } from './docker-credentials.js';
export type { CredentialSource, RegistryCredentials } from './docker-credentials.js';
export { formatImageReference, isLoopbackRegistry, parseImageReference, repositoryName } from './image-reference.js';
export type { ImageReference } from './image-reference.js';
export { MEDIA_TYPES } from './media-types.js';
export {
  attachImageBundle,
  attachSignatureBundle,
  COSIGN_SIGN_PREDICATE,
  cosignSignStatement,
  resolveImage,
  signatureRepository,
  signImage,
  verifyImageSignatures,
} from './image-signatures.js';
export type { FoundSignature, ImageVerification, ResolvedImage, SignatureFormat } from './image-signatures.js';
export { attestImage, verifyImageAttestations } from './image-attestations.js';
export type { ImageSubject } from './image-attestations.js';
export { cleanAttachments, downloadAttestations, downloadSignatures, listAttachments } from './image-attachments.js';
export type { Attachment, AttachmentKind } from './image-attachments.js';
export { appendSignatureLayer, readSignatureLayers, SIGNATURE_ANNOTATION, signatureTag } from './signature-image.js';
export { simpleSigningPayload } from './simple-signing.js';
export { readBundleReferrers } from './bundle-referrer.js';
export type { KeylessCheck, KeylessSignatureVerifier, KeysAndKeylessTrust, SignatureTrust } from './keyless-trust.js';
