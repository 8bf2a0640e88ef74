import { readFileSync } from 'node:fs';
import { agentClientOf, findAgent, isAgentUnavailable } from './client.js';
import type { AgentStatus } from './server.js';

/**
 * The running agent's status, or undefined when none answers (no socket, or a dead agent's socket). With
 * `warn`, files that are not private are a warning; without, an AGENT_UNTRUSTED error.
 */
export async function pingAgent(
  env: Readonly<Record<string, string | undefined>>,
  warn?: (message: string) => void,
): Promise<AgentStatus | undefined> {
  const client = warn ? findAgent(env, warn) : env.COSIGNKIT_NO_AGENT === '1' ? undefined : agentClientOf(env);
  if (!client) return undefined;
  try {
    return (await client.request({ op: 'ping' }, undefined, 5000)) as AgentStatus;
  } catch (error) {
    if (isAgentUnavailable(error)) return undefined;
    throw error;
  }
}

export function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The agent log's last line, for a one-line error when the agent dies at start. */
export function lastLogLine(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    return lines[lines.length - 1] ?? '(empty log)';
  } catch {
    return '(no log)';
  }
}
