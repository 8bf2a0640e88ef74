export { createSigner } from './signer.js';
export { createVerifier } from './verifier.js';
export { COSIGNKIT_PLUGIN } from './engine-choice.js';
export { resolveVerificationKey } from './verification-key.js';
export type { VerificationKey } from './verification-key.js';
export type { EngineChoice, RoleOptions } from './role-options.js';
