import { silentLogger, type BackendContext, type SecretProvider } from '@cosignkit/core';

/** The password and PIN the kit hands a backend when COSIGN_PASSWORD / COSIGN_PKCS11_PIN are unset. */
export const TEST_PASSWORD = 'cosignkit-testkit-password';

/** Secrets from cosign's variables, read at request time, else TEST_PASSWORD: tests never prompt. */
export const testSecrets: SecretProvider = async (request) => {
  const value = request.kind === 'pin' ? process.env.COSIGN_PKCS11_PIN : process.env.COSIGN_PASSWORD;
  return value ?? TEST_PASSWORD;
};

/** The context the kit opens stores with: no options, test secrets, a silent logger, process.env. */
export function defaultContext(overrides: Partial<BackendContext> = {}): BackendContext {
  return { options: {}, secrets: testSecrets, logger: silentLogger, env: process.env, ...overrides };
}
