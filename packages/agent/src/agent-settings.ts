import type { CosignkitConfig } from '@cosignkit/core/config';
import { CosignkitError } from '@cosignkit/core/errors';
import { parseDuration } from '@cosignkit/core/duration';

export type AgentLogLevel = 'debug' | 'info' | 'warn';

/** What the agent and its clients read from the environment and the config's `agent` section. */
export interface AgentSettings {
  /** The plugin starts the agent on its first call when none runs. */
  autostart: boolean;
  /**
   * How long a client waits for the agent's answer to one operation (a hung HSM must not hang cosign). The agent
   * announces its own in the handshake; a client's COSIGNKIT_AGENT_TIMEOUT wins.
   */
  timeoutMs: number;
  logLevel: AgentLogLevel;
}

/**
 * A PKCS#11 login or a TPM signature takes well under a second and a first keyring unlock a few; a minute is
 * ample and still ends a call to a hung device.
 */
export const DEFAULT_AGENT_TIMEOUT = '60s';

const LEVELS: readonly AgentLogLevel[] = ['debug', 'info', 'warn'];

/** The environment wins over the config: COSIGNKIT_AGENT_AUTOSTART=0, COSIGNKIT_AGENT_TIMEOUT, COSIGNKIT_AGENT_LOG_LEVEL. */
export function agentSettings(
  env: Readonly<Record<string, string | undefined>>,
  config: CosignkitConfig,
): AgentSettings {
  const section = config.agent ?? {};
  const autostartEnv = env.COSIGNKIT_AGENT_AUTOSTART;
  const autostart =
    autostartEnv !== undefined && autostartEnv !== ''
      ? !['0', 'false', 'no', 'off'].includes(autostartEnv.toLowerCase())
      : section.autostart !== false;
  const timeoutText = env.COSIGNKIT_AGENT_TIMEOUT || section.timeout || DEFAULT_AGENT_TIMEOUT;
  const timeoutMs = parseDuration(String(timeoutText));
  if (timeoutMs <= 0) {
    throw new CosignkitError('USAGE', `the agent timeout must be more than zero, not "${String(timeoutText)}"`);
  }
  const level = (env.COSIGNKIT_DEBUG === '1' ? 'debug' : env.COSIGNKIT_AGENT_LOG_LEVEL || section.logLevel || 'info')
    .toString()
    .toLowerCase();
  if (!(LEVELS as readonly string[]).includes(level)) {
    throw new CosignkitError('USAGE', `the agent log level is debug, info or warn, not "${level}"`);
  }
  return { autostart, timeoutMs, logLevel: level as AgentLogLevel };
}

/**
 * The settings with the config files of `cwd` (the user's and the project's) read. The config reader is loaded
 * here, not with this module: it brings node:fs/promises (and with it readline and the file watchers), which a
 * plugin call answered by a running agent never needs.
 */
export async function loadAgentSettings(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Promise<AgentSettings> {
  const { loadConfig } = await import('@cosignkit/core/config');
  return agentSettings(env, await loadConfig({ cwd, env: env as NodeJS.ProcessEnv }));
}
