import { spawn } from 'node:child_process';
import { closeSync, constants, fstatSync, openSync, statSync, unlinkSync } from 'node:fs';
import { CosignkitError } from '@cosignkit/core/errors';
import { lastLogLine, sleep } from './agent-control.js';
import { prepareAgentDir } from './agent-location.js';
import { type AgentClient, type AgentClientOptions, agentClientOf, isAgentUnavailable } from './client.js';

/** How long a first call waits for the agent it (or a concurrent first call) started. */
const START_TIMEOUT_MS = 20_000;
const POLL_MS = 25;

export interface AutostartOptions extends AgentClientOptions {
  /** The daemon's command: node's arguments that run the agent (`[…execArgv, <cosignkit-agent.cjs>, 'run']`). */
  daemon: readonly string[];
  cwd: string;
}

/**
 * Starts this user's agent when none answers and returns a client of it; concurrent first calls start one agent.
 * The lock is `<socket>.starting`, created with O_EXCL in the agent's private directory: its holder spawns the
 * daemon and waits for it to answer, the others wait for the same. A lock older than the start time-out is the
 * leftover of a starter that died, and is taken over.
 */
export async function autostartAgent(
  env: Readonly<Record<string, string | undefined>>,
  options: AutostartOptions,
): Promise<AgentClient> {
  const { paths } = prepareAgentDir(env);
  // The daemon and every later client use this socket, also when the default directory fell back to another.
  const pinned = { ...env, COSIGNKIT_AGENT_SOCKET: paths.socket };
  const lock = `${paths.socket}.starting`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const running = await answering(pinned, options);
    if (running) return running;
    const fd = takeLock(lock);
    if (fd === undefined) {
      await sleep(POLL_MS);
      continue;
    }
    try {
      // Another first call may have finished its start between our check and our lock.
      const started = (await answering(pinned, options)) ?? (await spawnAndWait(pinned, paths, options, deadline));
      return started;
    } finally {
      closeSync(fd);
      unlinkQuietly(lock);
    }
  }
  throw new CosignkitError(
    'TIMEOUT',
    `the agent did not start within ${START_TIMEOUT_MS / 1000}s; see ${paths.logFile}`,
  );
}

/** A client of the agent when it answers a ping, else undefined. */
async function answering(
  env: Readonly<Record<string, string | undefined>>,
  options: AgentClientOptions,
): Promise<AgentClient | undefined> {
  const client = agentClientOf(env, options);
  if (!client) return undefined;
  try {
    await client.request({ op: 'ping' }, undefined, 5000);
    return client;
  } catch (error) {
    if (isAgentUnavailable(error)) return undefined;
    throw error;
  }
}

function takeLock(lock: string): number | undefined {
  try {
    return openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    try {
      if (Date.now() - statSync(lock).mtimeMs > START_TIMEOUT_MS) unlinkQuietly(lock);
    } catch {
      // Gone meanwhile: the next round takes it.
    }
    return undefined;
  }
}

async function spawnAndWait(
  env: Readonly<Record<string, string | undefined>>,
  paths: { socket: string; logFile: string },
  options: AutostartOptions,
  deadline: number,
): Promise<AgentClient> {
  // The daemon takes secrets from its clients only: none of the starter's stays in its environment.
  const daemonEnv: NodeJS.ProcessEnv = { ...env };
  delete daemonEnv.COSIGN_PASSWORD;
  delete daemonEnv.COSIGN_PKCS11_PIN;
  const log = openSync(paths.logFile, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o600);
  let exited: number | null | undefined;
  try {
    if ((fstatSync(log).mode & 0o077) !== 0) {
      throw new CosignkitError('AGENT_UNTRUSTED', `the agent's log ${paths.logFile} is readable by others`);
    }
    const child = spawn(process.execPath, [...options.daemon, '--socket', paths.socket], {
      detached: true,
      stdio: ['ignore', log, log],
      env: daemonEnv,
      cwd: options.cwd,
    });
    child.once('exit', (code) => (exited = code));
    child.once('error', () => (exited = -1));
    child.unref();
  } finally {
    closeSync(log);
  }
  while (Date.now() < deadline) {
    await sleep(POLL_MS);
    if (exited !== undefined) {
      throw new CosignkitError(
        'BACKEND_UNAVAILABLE',
        `the agent exited at start (status ${String(exited)}): ${lastLogLine(paths.logFile)}`,
      );
    }
    const client = await answering(env, options);
    if (client) return client;
  }
  throw new CosignkitError(
    'TIMEOUT',
    `the agent did not start within ${START_TIMEOUT_MS / 1000}s; see ${paths.logFile}`,
  );
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
