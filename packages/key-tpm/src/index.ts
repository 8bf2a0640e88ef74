export { backend, tpmBackend } from './tpm-backend.js';
export { KEY_TYPE, TPMA_OBJECT, TpmKeyManager } from './tpm-key-manager.js';
export type { TpmKeyAttributes } from './tpm-key-manager.js';
export { keyNameOf, tpmSettings } from './tpm-settings.js';
export type { TpmSettings } from './tpm-settings.js';
export { PROFILES } from './fapi/fapi-profiles.js';
export type { TpmCurve, TpmProfile } from './fapi/fapi-profiles.js';
export { staleHandlesFix } from './fapi/fapi-errors.js';
