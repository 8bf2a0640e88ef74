import { createPublicKey, type KeyObject } from 'node:crypto';
import { CosignkitError } from '../errors.js';

/**
 * The public key of a cosign legacy bundle's `cert`: base64 of a PEM (cosign writes it so) or a bare PEM,
 * holding a certificate (keyless) or a public key (`attest-blob --key`). cosign checks a signature against
 * this key, so a bundle whose `cert` is another key than the one verifying must not pass.
 */
export function legacyBundleKey(cert: string, where: string): KeyObject {
  const pem = cert.includes('-----BEGIN') ? cert : Buffer.from(cert, 'base64').toString('utf8');
  const block = /-----BEGIN (CERTIFICATE|PUBLIC KEY)-----[\s\S]*?-----END \1-----/.exec(pem)?.[0];
  if (block === undefined)
    throw new CosignkitError('BUNDLE_MALFORMED', `${where}: cert is not a PEM certificate or public key`);
  try {
    return createPublicKey(block);
  } catch (error) {
    throw new CosignkitError('BUNDLE_MALFORMED', `${where}: cert cannot be read`, { cause: error });
  }
}
