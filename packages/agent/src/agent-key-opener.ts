import {
  parseKeyRef,
  type BackendRegistry,
  type CosignkitConfig,
  type KeyOpener,
  type KeyRef,
  type Logger,
  type OpenedKey,
} from '@cosignkit/core';
import { agentSettings } from './agent-settings.js';
import { absoluteRef, findAgent, isAgentUnavailable } from './client.js';
import { openThroughAgent } from './remote-key-manager.js';

/**
 * Keys opened in the agent when one runs: `open()` asks the agent and hands back a manager that forwards to
 * it; backend loading and secrets stay the local registry's. Without an agent (no socket, or a dead agent's
 * socket) the local registry opens keys itself.
 */
export function agentKeyOpener(
  registry: BackendRegistry,
  options: {
    env: Readonly<Record<string, string | undefined>>;
    cwd: string;
    logger: Logger;
    /** The loaded config, for its `agent.timeout` (COSIGNKIT_AGENT_TIMEOUT wins). */
    config?: CosignkitConfig;
  },
): KeyOpener {
  // Unset here: the agent's own timeout, announced in the handshake.
  const explicit = options.env.COSIGNKIT_AGENT_TIMEOUT || options.config?.agent?.timeout;
  const timeout = explicit ? { timeoutMs: agentSettings(options.env, options.config ?? {}).timeoutMs } : {};
  const client = findAgent(options.env, (message) => options.logger.warn(message), timeout);
  if (!client) return registry;
  // The local provider (COSIGN_PASSWORD, a prompt, stdin), asked only when the agent has not opened the store yet.
  const secrets = registry.contextFor('agent').secrets;
  return {
    async open(reference: string | KeyRef): Promise<OpenedKey> {
      const ref = typeof reference === 'string' ? parseKeyRef(reference) : reference;
      let opened;
      try {
        opened = await openThroughAgent(client, absoluteRef(ref.text, options.cwd), secrets);
      } catch (error) {
        if (isAgentUnavailable(error)) return registry.open(ref);
        throw error;
      }
      options.logger.debug('key opened in the agent', { backend: opened.backend, keyId: opened.keyId });
      return { backend: await registry.backendFor(ref.scheme), manager: opened.manager, keyId: opened.keyId, ref };
    },
    secret: (request) => registry.secret(request),
  };
}
