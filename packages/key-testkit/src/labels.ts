import { randomBytes } from 'node:crypto';
import type { KeyAlgorithm } from '@cosignkit/core';

const SHORT: Record<KeyAlgorithm, string> = {
  'ecdsa-p256-sha256': 'p256',
  'ecdsa-p384-sha384': 'p384',
  ed25519: 'ed25519',
};

/**
 * A label no earlier run used, made of characters every store accepts (file names, PKCS#11 labels, TPM
 * paths, keyring accounts).
 */
export function uniqueLabel(algorithm: KeyAlgorithm, purpose = 'key'): string {
  return `testkit-${purpose}-${SHORT[algorithm]}-${randomBytes(4).toString('hex')}`;
}
