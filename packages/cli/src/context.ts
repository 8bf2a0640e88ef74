import {
  BackendRegistry,
  type CosignkitConfig,
  loadConfigSync,
  type KeyOpener,
  type ModuleImporter,
} from '@cosignkit/core';
import type { CommandContext } from './command.js';
import { withCheckoutCosign } from './checkout-cosign.js';
import { cliSecrets } from './secrets.js';
import { agentMayBeRunning } from './agent-presence.js';

/**
 * Builds the parts of the context that need core: the merged config files and the backend registry.
 * Backends are imported from here, so the CLI's own dependencies resolve wherever the user runs it from.
 *
 * The config files are read here, unless `configOnUse` (a command that only verifies: Command.configOnUse):
 * then when something first needs them (a default key, a backend's options, the agent's settings), and a
 * file that is not valid JSON is reported then, as the command's error. A `verify-blob --key` reads none
 * (issue 19: the walk from the working directory up to the root for a project file is start-up time).
 */
export async function buildContext(
  given: Omit<CommandContext, 'config' | 'registry' | 'keys'>,
  configOnUse = false,
): Promise<{ context: CommandContext; close: () => Promise<void> }> {
  // Native runs never look for cosign; the other two find the checkout's own when nothing else names one.
  const base = given.engine === 'native' ? given : { ...given, env: await withCheckoutCosign(given.env) };
  let loaded: CosignkitConfig | undefined;
  const config = () => {
    loaded ??= loadConfigSync({ cwd: base.cwd, env: base.env });
    return loaded;
  };
  if (!configOnUse) config();
  const registry = new BackendRegistry({
    // The registry reads its options when it opens a key.
    get config() {
      return config();
    },
    secrets: cliSecrets({ env: base.env }),
    logger: base.logger,
    env: base.env,
    importer: cliBackendImporter(base.cwd),
  });
  // With a cosignkit agent running, keys open in it (issue 6); --no-agent keeps them in this process. The
  // agent is looked for on the first open(): commands that open no key (verify-blob with a PEM) skip it.
  const keys = base.useAgent ? agentOnFirstOpen(registry, base, config) : registry;
  const context: CommandContext = {
    ...base,
    get config() {
      return config();
    },
    registry,
    keys,
  };
  return { context, close: () => registry.close() };
}

/**
 * `options.config` carries the caller's `agent.timeout`, which wins over the one the agent announces. With no
 * agent's socket (or fallback pointer) on disk, keys open here without loading the agent package at all.
 */
function agentOnFirstOpen(
  registry: BackendRegistry,
  options: Omit<CommandContext, 'registry' | 'keys' | 'config'>,
  config: () => CosignkitConfig,
): KeyOpener {
  let backed: Promise<KeyOpener> | undefined;
  return {
    async open(reference) {
      backed ??= agentMayBeRunning(options.env)
        ? import('@cosignkit/agent').then((m) => m.agentKeyOpener(registry, { ...options, config: config() }))
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
