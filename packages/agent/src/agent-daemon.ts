import { parseArgs } from 'node:util';
import { CosignkitError, loadConfig, parseDuration } from '@cosignkit/core';
import { prepareAgentDir } from './agent-location.js';
import { agentLogger } from './agent-logger.js';
import { agentSettings } from './agent-settings.js';
import { backendImporter } from './backend-importer.js';
import { DEFAULT_TTL } from './duration.js';
import { agentPaths } from './paths.js';
import { AgentServer } from './server.js';

export interface DaemonIo {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  stderr: (line: string) => void;
}

/**
 * `cosignkit-agent run [--socket <path>] [--ttl <duration>]`: the agent in the foreground until SIGTERM, SIGINT,
 * SIGHUP or a shutdown request. What the plugin starts on its first call, for users of stock cosign who have no
 * cosignkit CLI (whose `agent run` is the same agent).
 */
export async function runAgentDaemon(argv: readonly string[], io: DaemonIo): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { socket: { type: 'string' }, ttl: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new CosignkitError(
      'USAGE',
      `${(error as Error).message} (usage: cosignkit-agent run [--socket <path>] [--ttl <duration>])`,
    );
  }
  if (parsed.positionals.join(' ') !== 'run') {
    throw new CosignkitError('USAGE', 'usage: cosignkit-agent run [--socket <path>] [--ttl <duration>]');
  }
  const config = await loadConfig({ cwd: io.cwd, env: io.env as NodeJS.ProcessEnv });
  const settings = agentSettings(io.env, config);
  const ttlMs = parseDuration(parsed.values.ttl ?? io.env.COSIGNKIT_AGENT_TTL ?? DEFAULT_TTL);
  const socket = parsed.values.socket;
  // An explicit --socket (as the plugin passes) is used or refused as is; the default may fall back.
  const paths = socket ? agentPaths({ COSIGNKIT_AGENT_SOCKET: socket }) : prepareAgentDir(io.env).paths;
  const logger = agentLogger(io.stderr, settings.logLevel);
  logger.info('agent starting', { pid: process.pid, socket: paths.socket });
  const server = new AgentServer({
    paths,
    ttlMs,
    config,
    env: io.env,
    logger,
    importer: backendImporter(io.cwd),
    operationTimeoutMs: settings.timeoutMs,
  });
  await server.listen();
  const onSignal = (signal: NodeJS.Signals) => void server.stop(signal);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onSignal);
  await server.stopped;
}
