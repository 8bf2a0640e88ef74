export { backend, fileBackend } from './backend.js';
export { FileKeyManager } from './file-key-manager.js';
export type { FileKeyManagerOptions } from './file-key-manager.js';
export {
  COSIGN_KEY_LABEL,
  LEGACY_COSIGN_KEY_LABEL,
  decryptCosignKey,
  encryptCosignKey,
  isCosignKeyPem,
} from './cosign-key-format.js';
export type { DecryptedCosignKey } from './cosign-key-format.js';
export { importKeyPair } from './import-key-pair.js';
export type { ImportKeyPairOptions, ImportedKeyPair } from './import-key-pair.js';
export { prestartKeyDerivation } from './scrypt-prestart.js';
