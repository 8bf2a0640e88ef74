import { AgentUnavailable, type AgentClient } from '../agent/client.js';
import type { PluginKeys } from './handle.js';
import { PluginError, defaultAlgorithmOf, errorResponse, parseRequest, type PluginRequest } from './protocol.js';

export interface PluginIo {
  stdin: AsyncIterable<Uint8Array>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * The whole plugin: one request in argv, one JSON answer on stdout (errors too: cosign ignores the exit status).
 * Loads only what the request needs: `defaultAlgorithm` nothing, a request the agent serves only the socket
 * client, and core with the backend only when the plugin does the work itself.
 */
export async function runPlugin(argv: readonly string[], io: PluginIo): Promise<void> {
  let response: Record<string, unknown>;
  try {
    const request = parseRequest(argv);
    response = request.methodName === 'defaultAlgorithm'
      ? { defaultAlgorithm: { defaultAlgorithm: defaultAlgorithmOf(request.initOptions.keyResourceID) } }
      : await serve(request, io);
  } catch (error) {
    if (!(error instanceof PluginError) && io.env.COSIGNKIT_DEBUG === '1') io.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    response = errorResponse(error);
  }
  io.stdout.write(`${JSON.stringify(response)}\n`);
}

async function serve(request: PluginRequest, io: PluginIo): Promise<Record<string, unknown>> {
  const { handleKeyRequest } = await import('./handle.js');
  const { findAgent } = await import('../agent/client.js');
  const agent = findAgent(io.env, (message) => io.stderr.write(`cosignkit: warning: ${message}\n`));
  if (agent) {
    try {
      return await handleKeyRequest(request, await agentKeys(agent, io), io.stdin);
    } catch (error) {
      // Only when nothing answered at all (no stdin read yet): a stale socket of a dead agent.
      if (!(error instanceof AgentUnavailable)) throw error;
    }
  }
  const { directKeys } = await import('./direct.js');
  const keys = await directKeys(io.env, io.cwd);
  try {
    return await handleKeyRequest(request, keys, io.stdin);
  } finally {
    await keys.close();
  }
}

async function agentKeys(client: AgentClient, io: PluginIo): Promise<PluginKeys> {
  const { absoluteRef, environmentSecretSource } = await import('../agent/client.js');
  const { openThroughAgent } = await import('../agent/remote-key-manager.js');
  const secrets = environmentSecretSource(io.env);
  return {
    async open(keyResourceID) {
      const opened = await openThroughAgent(client, absoluteRef(keyResourceID, io.cwd), secrets);
      return { manager: opened.manager, keyId: opened.keyId, ...(opened.algorithm ? { algorithm: opened.algorithm } : {}) };
    },
    async algorithms(keyResourceID) {
      return (await client.request({ op: 'algorithms', ref: absoluteRef(keyResourceID, io.cwd) })) as string[];
    },
  };
}
