import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BackendRegistry, loadConfig, type ModuleImporter } from '@cosignkit/core';
import type { CommandContext } from './command.js';
import { cliSecrets } from './secrets.js';
import { registryWithOpen } from './registry-with-open.js';

/**
 * Builds the parts of the context that need core: the merged config files and the backend registry.
 * Backends are imported from here, so the CLI's own dependencies resolve wherever the user runs it from.
 */
export async function buildContext(
  base: Omit<CommandContext, 'config' | 'registry'>,
): Promise<{ context: CommandContext; close: () => Promise<void> }> {
  const config = await loadConfig({ cwd: base.cwd, env: base.env });
  const registry = new BackendRegistry({
    config,
    secrets: cliSecrets({ env: base.env }),
    logger: base.logger,
    env: base.env,
    importer: backendImporter(base.cwd),
  });
  // With a cosignkit agent running, keys open in it (issue 6); --no-agent keeps them in this process. The
  // agent is looked for on the first open(): commands that open no key (verify-blob with a PEM) skip it.
  const keys = base.useAgent ? agentOnFirstOpen(registry, base) : registry;
  return { context: { ...base, config, registry: keys }, close: () => registry.close() };
}

function agentOnFirstOpen(registry: BackendRegistry, base: Omit<CommandContext, 'config' | 'registry'>): BackendRegistry {
  let backed: Promise<BackendRegistry> | undefined;
  const open: BackendRegistry['open'] = async (reference) => {
    backed ??= import('./agent/agent-registry.js').then((m) => m.agentBackedRegistry(registry, base));
    return (await backed).open(reference);
  };
  return registryWithOpen(registry, open);
}

/**
 * Backend packages resolve from the CLI first (its own dependencies: key-file, key-pkcs11, …), then from the
 * working directory, where a project installs a third-party backend named in its cosignkit.config.json.
 */
export function backendImporter(cwd: string): ModuleImporter {
  return async (specifier) => {
    try {
      return await import(specifier);
    } catch (error) {
      if (!isModuleNotFound(error, specifier)) throw error;
      // Throws MODULE_NOT_FOUND naming the specifier when the project lacks it too: the registry reports that.
      const resolved = createRequire(join(cwd, 'noop.js')).resolve(specifier);
      return import(pathToFileURL(resolved).href);
    }
  };
}

/** The package itself is missing (not one of its own imports, which is a broken install to report as is). */
function isModuleNotFound(error: unknown, specifier: string): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(`'${specifier}'`);
}
