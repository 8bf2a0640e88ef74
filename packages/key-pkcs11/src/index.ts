import { pkcs11Backend } from './pkcs11-backend.js';

/** The KeyBackend for `pkcs11:` references, as the registry loads it. */
export const backend = pkcs11Backend();

export { pkcs11Backend, openPkcs11Store, DEFAULT_SESSIONS, defaultSignThreads } from './pkcs11-backend.js';
export { Pkcs11KeyManager } from './pkcs11-key-manager.js';
export type { Pkcs11KeyManagerInit } from './pkcs11-key-manager.js';
export { keyIdOfUri, keyRefText, ID_PREFIX } from './key-uri.js';
export { parsePkcs11Uri } from './pkcs11-uri.js';
export type { Pkcs11Uri } from './pkcs11-uri.js';
