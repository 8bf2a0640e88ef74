export { keyBackendConformance } from './conformance.js';
export type { ConformanceOptions, ProveNonExtractable } from './conformance-options.js';
export { ConformanceError } from './conformance-error.js';
export { TEST_PASSWORD, defaultContext, testSecrets } from './default-context.js';
export type { Subject } from './subject.js';
export { SecretWatch } from './secret-watch.js';
export { assertDerEcdsaSignature } from './der.js';
export { uniqueLabel } from './labels.js';
export { checkAbortedSigning } from './checks/abort.js';
export { checkCloseIdempotent } from './checks/close.js';
export { checkConcurrentSigning } from './checks/concurrency.js';
export { checkContractShape, checkSelection } from './checks/contract-shape.js';
export { checkDelete, checkDeleteRefused, checkUnknownKey } from './checks/delete.js';
export {
  checkDuplicateLabelRefused,
  checkGenerate,
  checkGenerateRefused,
  checkUndeclaredAlgorithmRefused,
} from './checks/generate.js';
export { checkKeyInfo, parsePublicKeyPem, referenceFingerprint } from './checks/key-info.js';
export { checkListShape, checkListed, checkNotListed } from './checks/list-keys.js';
export { checkNonExtractable } from './checks/non-extractable.js';
export { checkPublicKeyViews } from './checks/public-key.js';
export { checkRefReopens } from './checks/reopen.js';
export { checkSecretHygiene } from './checks/secret-hygiene.js';
export { checkDigestLength, checkSignMessage, checkSignature, testMessage } from './checks/sign.js';
export { checkVerifySignature, foreignSignature } from './checks/verify.js';
export { FakeMemoryKeyManager, fakeMemoryBackend } from './fakes/fake-memory-backend.js';
export { memoryStore } from './fakes/memory-store.js';
export type { MemoryStore } from './fakes/memory-store.js';
