import type { KeyManager } from '@cosignkit/core';
import { TpmKeyManager } from '../src/index.js';

/**
 * Throws unless the TPM refuses to let the key's private part out: fixedTPM (never leaves this TPM),
 * fixedParent (cannot be duplicated to another parent) and sensitiveDataOrigin (generated inside, never
 * imported) must all be set in the public area the TPM binds to the key.
 */
export async function proveTpmNonExtractable(manager: KeyManager, keyId: string): Promise<void> {
  if (!(manager instanceof TpmKeyManager)) throw new Error(`not a TpmKeyManager: ${manager.backend}`);
  const attributes = await manager.keyAttributes(keyId);
  const missing = (['fixedTPM', 'fixedParent', 'sensitiveDataOrigin'] as const).filter((a) => !attributes[a]);
  if (missing.length > 0) {
    throw new Error(
      `TPM key ${keyId} can leave the TPM: ${missing.join(', ')} not set ` +
        `(TPMA_OBJECT 0x${attributes.objectAttributes.toString(16)})`,
    );
  }
}
