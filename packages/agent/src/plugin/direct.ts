import { BackendRegistry, environmentSecrets, loadConfig, parseKeyRef } from '@cosignkit/core';
import { backendImporter } from '../backend-importer.js';
import type { PluginKeys } from './handle.js';

/**
 * The plugin doing the work itself (no agent): a registry for this one call. Secrets come from the environment
 * cosign passes on (COSIGN_PASSWORD, COSIGN_PKCS11_PIN) or from the reference (pin-source): there is no terminal.
 */
export async function directKeys(
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<PluginKeys & { close(): Promise<void> }> {
  const config = await loadConfig({ cwd, env });
  const registry = new BackendRegistry({
    config,
    secrets: environmentSecrets(env),
    env,
    importer: backendImporter(cwd),
  });
  return {
    async open(keyResourceID) {
      const { manager, keyId } = await registry.open(keyResourceID);
      return { manager, keyId };
    },
    async algorithms(keyResourceID) {
      return (await registry.backendFor(parseKeyRef(keyResourceID).scheme)).capabilities.algorithms;
    },
    close: () => registry.close(),
  };
}
