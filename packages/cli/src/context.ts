import { BackendRegistry, loadConfig, type KeyOpener, type ModuleImporter } from '@cosignkit/core';
import type { CommandContext } from './command.js';
import { withCheckoutCosign } from './checkout-cosign.js';
import { cliSecrets } from './secrets.js';
import { agentMayBeRunning } from './agent-presence.js';

/**
 * Builds the parts of the context that need core: the merged config files and the backend registry.
 * Backends are imported from here, so the CLI's own dependencies resolve wherever the user runs it from.
 */
export async function buildContext(
  given: Omit<CommandContext, 'config' | 'registry' | 'keys'>,
): Promise<{ context: CommandContext; close: () => Promise<void> }> {
  // Native runs never look for cosign; the other two find the checkout's own when nothing else names one.
  const base = given.engine === 'native' ? given : { ...given, env: await withCheckoutCosign(given.env) };
  const config = await loadConfig({ cwd: base.cwd, env: base.env });
  const registry = new BackendRegistry({
    config,
    secrets: cliSecrets({ env: base.env }),
    logger: base.logger,
    env: base.env,
    importer: cliBackendImporter(base.cwd),
  });
  // With a cosignkit agent running, keys open in it (issue 6); --no-agent keeps them in this process. The
  // agent is looked for on the first open(): commands that open no key (verify-blob with a PEM) skip it.
  const keys = base.useAgent ? agentOnFirstOpen(registry, { ...base, config }) : registry;
  return { context: { ...base, config, registry, keys }, close: () => registry.close() };
}

/**
 * `options.config` carries the caller's `agent.timeout`, which wins over the one the agent announces. With no
 * agent's socket (or fallback pointer) on disk, keys open here without loading the agent package at all.
 */
function agentOnFirstOpen(registry: BackendRegistry, options: Omit<CommandContext, 'registry' | 'keys'>): KeyOpener {
  let backed: Promise<KeyOpener> | undefined;
  return {
    async open(reference) {
      backed ??= agentMayBeRunning(options.env)
        ? import('@cosignkit/agent').then((m) => m.agentKeyOpener(registry, options))
        : Promise.resolve(registry);
      return (await backed).open(reference);
    },
    secret: (request) => registry.secret(request),
  };
}

/**
 * The file backend is part of the CLI's own bundle (the one backend a one-shot `sign-blob` needs, sharing the
 * bundled core); every other backend resolves as the agent resolves it, from the agent's dependencies, then
 * from the working directory. The agent package is loaded only then.
 */
function cliBackendImporter(cwd: string): ModuleImporter {
  let fallback: Promise<ModuleImporter> | undefined;
  return async (specifier) => {
    if (specifier === '@cosignkit/key-file') return import('@cosignkit/key-file');
    fallback ??= import('@cosignkit/agent').then((m) => m.backendImporter(cwd));
    return (await fallback)(specifier);
  };
}
