import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { uid } from './private-files.js';

/** Where the agent of this user listens, and the files beside its socket. */
export interface AgentPaths {
  dir: string;
  socket: string;
  /** A random secret, readable by the owner only, that both ends prove they know (see handshake.ts). */
  tokenFile: string;
  /** Where `agent start` sends the daemon's log (never a secret in it). */
  logFile: string;
}

/** The configured paths, and whether they are the per-uid default in the shared temp dir. */
export interface ConfiguredAgentPaths extends AgentPaths {
  /**
   * True for `<tmp>/cosignkit-agent-<uid>`: a name another user can create first, so the agent falls back to a
   * fresh private directory (see agent-location.ts). Any other location was chosen by the user and is refused.
   */
  sharedTemp: boolean;
}

/**
 * COSIGNKIT_AGENT_SOCKET if set (tests, several agents), else `$COSIGNKIT_AGENT_DIR/agent.sock`, else
 * `$XDG_RUNTIME_DIR/cosignkit/agent.sock`, else a private directory per uid in the temp dir.
 */
export function agentPaths(env: Readonly<Record<string, string | undefined>>): ConfiguredAgentPaths {
  if (env.COSIGNKIT_AGENT_SOCKET) return { ...pathsOf(env.COSIGNKIT_AGENT_SOCKET), sharedTemp: false };
  if (env.COSIGNKIT_AGENT_DIR) return { ...agentPathsIn(env.COSIGNKIT_AGENT_DIR), sharedTemp: false };
  if (env.XDG_RUNTIME_DIR) return { ...agentPathsIn(join(env.XDG_RUNTIME_DIR, 'cosignkit')), sharedTemp: false };
  return { ...agentPathsIn(join(tmpdir(), `cosignkit-agent-${uid()}`)), sharedTemp: true };
}

export function agentPathsIn(dir: string): AgentPaths {
  return pathsOf(join(dir, 'agent.sock'));
}

function pathsOf(socket: string): AgentPaths {
  return { dir: dirname(socket), socket, tokenFile: `${socket}.token`, logFile: `${socket}.log` };
}
