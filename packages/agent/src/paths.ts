import { lstatSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Where the agent of this user listens, and the files beside its socket. */
export interface AgentPaths {
  dir: string;
  socket: string;
  /** A random token, readable by the owner only, that every request must carry. */
  tokenFile: string;
  /** Where `agent start` sends the daemon's log (never a secret in it). */
  logFile: string;
}

/**
 * COSIGNKIT_AGENT_SOCKET if set (tests, several agents), else `$XDG_RUNTIME_DIR/cosignkit/agent.sock`, else a
 * private directory per uid in the temp dir.
 */
export function agentPaths(env: Readonly<Record<string, string | undefined>>): AgentPaths {
  let socket = env.COSIGNKIT_AGENT_SOCKET;
  if (!socket) {
    const runtime = env.XDG_RUNTIME_DIR;
    const dir = runtime ? join(runtime, 'cosignkit') : join(tmpdir(), `cosignkit-agent-${uid()}`);
    socket = join(dir, 'agent.sock');
  }
  return { dir: dirname(socket), socket, tokenFile: `${socket}.token`, logFile: `${socket}.log` };
}

export function uid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : -1;
}

/**
 * Node cannot read a Unix socket peer's uid (no SO_PEERCRED), so the agent's security rests on the file system:
 * a directory only its owner can enter (0700), a socket only its owner can connect to (0600), and a token file
 * only its owner can read. This checks (or creates) the directory and refuses one another user could enter.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const problem = privateDirProblem(dir);
  if (problem) throw new AgentPathError(problem);
}

/** Why a directory is not private to this user, or undefined when it is. */
export function privateDirProblem(dir: string): string | undefined {
  let info;
  try {
    info = statSync(dir);
  } catch {
    return `${dir} does not exist`;
  }
  if (!info.isDirectory()) return `${dir} is not a directory`;
  if (uid() >= 0 && info.uid !== uid()) return `${dir} belongs to another user (uid ${info.uid})`;
  if ((info.mode & 0o077) !== 0) return `${dir} is open to other users (mode ${(info.mode & 0o777).toString(8)}; it must be 700)`;
  return undefined;
}

/** Why the socket file is not one this user's agent made, or undefined. */
export function socketProblem(socket: string): string | undefined {
  let info;
  try {
    info = lstatSync(socket);
  } catch {
    return `${socket} does not exist`;
  }
  if (!info.isSocket()) return `${socket} is not a socket`;
  if (uid() >= 0 && info.uid !== uid()) return `${socket} belongs to another user (uid ${info.uid})`;
  return undefined;
}

export class AgentPathError extends Error {
  readonly code = 'USAGE';
  constructor(message: string) {
    super(`the agent's files are not private: ${message}`);
    this.name = 'AgentPathError';
  }
}
