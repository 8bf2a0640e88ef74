import { BackendRegistry, loadConfig } from '@cosignkit/core';
import type { CommandContext } from './command.js';
import { cliSecrets } from './secrets.js';

/**
 * Builds the parts of the context that need core: the merged config files and the backend registry.
 * Backends are imported from here (`(p) => import(p)`) so the CLI's own dependencies resolve, wherever the
 * user runs it from.
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
    importer: (specifier) => import(specifier),
  });
  return { context: { ...base, config, registry }, close: () => registry.close() };
}
