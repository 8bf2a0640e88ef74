import { silentLogger, type BackendContext } from '@cosignkit/core';

/** A BackendContext for tests: the keystore under `home`, nothing from the developer's environment. */
export function testContext(home: string, options: Record<string, unknown> = {}): BackendContext {
  return {
    options,
    secrets: async () => {
      throw new Error('the TPM backend asked for a secret');
    },
    logger: silentLogger,
    env: { COSIGNKIT_TPM_HOME: home, HOME: home },
  };
}
