import type { KeyManager } from '@cosignkit/core';
import { CosignkitError } from '@cosignkit/core';
import { BundleSigner } from './bundle-signer.js';
import { EphemeralCertificateKey } from './ephemeral-certificate-key.js';
import { KeyManagerSigningKey } from './key-manager-signing-key.js';
import type { SigningServices } from './signing-services.js';

export interface KeylessSignerOptions {
  services: SigningServices;
  /** Called when a certificate is needed; resolveIdentityToken() gives one. */
  getToken: () => Promise<string>;
  /** A key made beforehand (keyless.ts: its certificate request started before this module loaded). */
  key?: EphemeralCertificateKey;
  timeoutMs?: number;
  retries?: number;
}

/** Keyless: an in-memory key, a Fulcio certificate reused while valid, the log/TSA the services name. */
export function createKeylessSigner(options: KeylessSignerOptions): {
  signer: BundleSigner;
  key: EphemeralCertificateKey;
} {
  if (!options.services.fulcioUrl) throw new CosignkitError('USAGE', 'keyless signing needs a Fulcio URL');
  const key =
    options.key ??
    new EphemeralCertificateKey({
      fulcioUrl: options.services.fulcioUrl,
      getToken: options.getToken,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.retries !== undefined ? { retries: options.retries } : {}),
    });
  return {
    signer: new BundleSigner({
      key,
      services: options.services,
      timeoutMs: options.timeoutMs,
      retries: options.retries,
    }),
    key,
  };
}

/** Keyed signing with a log (S-4): any KeyManager key; the bundle carries the Rekor entry and/or timestamp. */
export async function createKeyedLogSigner(
  manager: KeyManager,
  keyId: string,
  services: SigningServices,
  options: { timeoutMs?: number; retries?: number } = {},
): Promise<BundleSigner> {
  const key = await KeyManagerSigningKey.open(manager, keyId);
  if (key.algorithm !== 'ecdsa-p256-sha256') {
    throw new CosignkitError(
      'NOT_SUPPORTED',
      `signing with a log takes ECDSA P-256 keys for now, not ${key.algorithm}`,
    );
  }
  return new BundleSigner({ key, services, ...options });
}
