import { CosignkitError } from '@cosignkit/core/errors';
import { agentSettings, loadAgentSettings } from '../agent-settings.js';
import { absoluteRef, environmentSecretSource, findAgent, isAgentUnavailable, type AgentClient } from '../client.js';
import { handleKeyRequest, type PluginKeys } from './handle.js';
import { defaultAlgorithmOf, errorResponse, parseRequest, type PluginRequest } from './protocol.js';

export interface PluginIo {
  stdin: AsyncIterable<Uint8Array>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /**
   * Node's arguments that run the agent daemon (`cosignkit-agent run`), for the first call to start it when none
   * runs (COSIGNKIT_AGENT_AUTOSTART=0 or `agent.autostart: false` turns that off). Without it, no autostart.
   */
  agentDaemon?: () => readonly string[];
}

/**
 * The whole plugin: one request in argv, one JSON answer on stdout (errors too: cosign ignores the exit status).
 * Loads only what the request needs: the few small modules here and node:net for the agent; core and the
 * backend only when the plugin does the work itself; node:crypto for the agent's handshake (an HMAC) and to
 * hash or verify a message. Resolves to whether the answer was a result (not an `errorMessage`).
 */
export async function runPlugin(argv: readonly string[], io: PluginIo): Promise<boolean> {
  let response: Record<string, unknown>;
  try {
    const request = parseRequest(argv);
    response =
      request.methodName === 'defaultAlgorithm'
        ? { defaultAlgorithm: { defaultAlgorithm: defaultAlgorithmOf(request.initOptions.keyResourceID) } }
        : await serve(request, io);
  } catch (error) {
    if (!CosignkitError.isInstance(error) && io.env.COSIGNKIT_DEBUG === '1')
      io.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    response = errorResponse(error);
  }
  io.stdout.write(`${JSON.stringify(response)}\n`);
  return !('errorMessage' in response);
}

async function serve(request: PluginRequest, io: PluginIo): Promise<Record<string, unknown>> {
  const warn = (message: string) => io.stderr.write(`cosignkit: warning: ${message}\n`);
  // No config read while an agent runs (every call pays for it): the environment's timeout, else the agent's own.
  const timeoutMs = io.env.COSIGNKIT_AGENT_TIMEOUT ? agentSettings(io.env, {}).timeoutMs : undefined;
  let agent = findAgent(io.env, warn, timeoutMs === undefined ? {} : { timeoutMs });
  if (!agent && io.agentDaemon && io.env.COSIGNKIT_NO_AGENT !== '1' && io.env.COSIGNKIT_AGENT_AUTOSTART !== '0') {
    try {
      const { autostartAgent } = await import('../agent-autostart.js');
      const settings = await loadAgentSettings(io.env, io.cwd);
      if (settings.autostart) {
        agent = await autostartAgent(io.env, {
          daemon: io.agentDaemon(),
          cwd: io.cwd,
          ...(timeoutMs ? { timeoutMs } : {}),
        });
      }
    } catch (error) {
      // Signing still works without the agent: said once on stderr, then done here.
      const e = error as { code?: string; message?: string };
      warn(`could not start the agent: ${String(e?.message ?? error).split('\n')[0]} [${e?.code ?? 'INTERNAL'}]`);
    }
  }
  if (agent) {
    let read = false;
    const stdin: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => {
        read = true;
        return io.stdin[Symbol.asyncIterator]();
      },
    };
    try {
      return await handleKeyRequest(request, agentKeys(agent, io), stdin);
    } catch (error) {
      // Nothing answered (a dead agent's socket): do the work here, unless the message was already read.
      if (!isAgentUnavailable(error) || read) throw error;
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

function agentKeys(client: AgentClient, io: PluginIo): PluginKeys {
  const secrets = environmentSecretSource(io.env);
  return {
    async open(keyResourceID) {
      const { openThroughAgent } = await import('../remote-key-manager.js');
      const opened = await openThroughAgent(client, absoluteRef(keyResourceID, io.cwd), secrets);
      return {
        manager: opened.manager,
        keyId: opened.keyId,
        ...(opened.algorithm ? { algorithm: opened.algorithm } : {}),
      };
    },
    async signDigest(keyResourceID, digest) {
      // A null key id: the agent signs with the key the reference names, without an `open` round trip first.
      return (await client.request(
        { op: 'key', ref: absoluteRef(keyResourceID, io.cwd), method: 'signDigest', args: [null, digest] },
        secrets,
      )) as Uint8Array;
    },
    async algorithms(keyResourceID) {
      return (await client.request({ op: 'algorithms', ref: absoluteRef(keyResourceID, io.cwd) })) as string[];
    },
  };
}
