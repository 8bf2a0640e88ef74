import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import {
  AgentServer,
  DEFAULT_TTL,
  agentLogger,
  agentPaths,
  agentSettings,
  backendImporter,
  prepareAgentDir,
} from '@cosignkit/agent';
import { parseDuration } from '@cosignkit/core';
import { usageError } from '../usage-error.js';

export const AGENT_FLAGS = {
  socket: { type: 'string' },
  ttl: { type: 'string' },
} as const;

const command: Command = {
  summary: 'run the key agent in the foreground (until SIGTERM, Ctrl-C or "agent stop")',
  help: `Usage: cosignkit agent run [--socket <path>] [--ttl <duration>]

Runs the agent in the foreground, logging to stderr. The agent keeps key stores open (a logged-in PKCS#11
session, a TPM context, a decrypted key file) so that the sigstore-kms-cosignkit plugin and cosignkit's own
commands need no start-up, login or decryption per call.

Flags:
  --socket <path>     the socket (default: $COSIGNKIT_AGENT_SOCKET, else $COSIGNKIT_AGENT_DIR/agent.sock, else
                      $XDG_RUNTIME_DIR/cosignkit/agent.sock, else <tmp>/cosignkit-agent-<uid>/agent.sock; when
                      another user holds that one, a fresh <tmp>/cosignkit-agent-<uid>-XXXXXX)
  --ttl <duration>    close a store idle this long: 90s, 10m, 1h; 0 keeps stores open until the agent stops
                      (default ${DEFAULT_TTL}, or $COSIGNKIT_AGENT_TTL)

Security: the socket's directory is 0700 and the socket 0600, so only its owner can connect (root aside); a
directory that is a symbolic link, another user's or open to others is refused. Before any request, the agent
and the client each prove they know a random token in a file only the owner can read, without sending it. Passwords and PINs come from the
client that first opens a store, and are never logged. COSIGNKIT_DEBUG=1 (or COSIGNKIT_AGENT_LOG_LEVEL=debug, or
"agent": {"logLevel": "debug"} in the config) logs every operation; COSIGNKIT_AGENT_LOG_LEVEL=warn only warnings.`,
  async run(context) {
    const { server, ttl } = await createAgent(context);
    await server.listen();
    const onSignal = (signal: NodeJS.Signals) => void server.stop(signal);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', onSignal);
    context.signal.addEventListener('abort', () => void server.stop('interrupted'));
    try {
      await server.stopped;
    } finally {
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGHUP', onSignal);
    }
    return { text: '', data: { stopped: true, socket: server.paths.socket, ttlMs: ttl } };
  },
};

export async function createAgent(
  context: Parameters<Command['run']>[0],
): Promise<{ server: AgentServer; ttl: number }> {
  const flags = parseFlags('agent run', context.argv, AGENT_FLAGS, { min: 0, max: 0, names: '' });
  const socket = stringFlag(flags, 'socket');
  const ttlText = stringFlag(flags, 'ttl') ?? context.env.COSIGNKIT_AGENT_TTL ?? DEFAULT_TTL;
  let ttl: number;
  try {
    ttl = parseDuration(ttlText);
  } catch {
    throw usageError('agent run', `--ttl takes a duration such as 90s, 10m or 1h, not "${ttlText}"`);
  }
  // An explicit --socket (as `agent start` passes) is used or refused as is; the default may fall back.
  const paths = socket ? agentPaths({ COSIGNKIT_AGENT_SOCKET: socket }) : prepareAgentDir(context.env).paths;
  const settings = agentSettings(context.env, context.config);
  const server = new AgentServer({
    paths,
    ttlMs: ttl,
    operationTimeoutMs: settings.timeoutMs,
    config: context.config,
    env: context.env,
    logger: agentLogger((line) => void process.stderr.write(line), settings.logLevel),
    importer: backendImporter(context.cwd),
  });
  return { server, ttl };
}

export default command;
