import { KEY_BACKEND_SPEC_VERSION, type BackendContext, type KeyBackend, type KeyRef } from '@cosignkit/core';
import { TpmKeyManager } from './tpm-key-manager.js';
import { keyNameOf, tpmSettings } from './tpm-settings.js';

/**
 * The `tpm:` backend: `tpm:<name>`, `tpm:<name>?curve=p384`, `tpm:<name>?tcti=swtpm:host=127.0.0.1,port=2321`.
 * Opening a store loads the TSS2 libraries (lazily) and initializes one FAPI context.
 */
export function tpmBackend(): KeyBackend {
  return {
    specVersion: KEY_BACKEND_SPEC_VERSION,
    name: 'tpm',
    schemes: ['tpm'],
    capabilities: {
      generate: true,
      delete: true,
      algorithms: ['ecdsa-p256-sha256', 'ecdsa-p384-sha384'],
      extractable: false,
    },
    async open(ref: KeyRef, context: BackendContext) {
      keyNameOf(ref);
      return TpmKeyManager.open(tpmSettings(ref, context), context.logger);
    },
    keyIdOf(ref: KeyRef) {
      return keyNameOf(ref);
    },
  };
}

export const backend: KeyBackend = tpmBackend();
