// Shared by the plugin and agent tests: the plugin run exactly as cosign runs it, and an agent of the test's own.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { REPO_ROOT, cosignkit, type Run } from './helpers.js';

export const PLUGIN = join(REPO_ROOT, 'bin', 'sigstore-kms-cosignkit');
export const PLUGIN_JS = join(REPO_ROOT, 'packages', 'agent', 'dist', 'bin', 'sigstore-kms-cosignkit.cjs');
/** bin/ first on PATH: cosign finds sigstore-kms-cosignkit there. */
export const PATH_WITH_PLUGIN = `${join(REPO_ROOT, 'bin')}:${process.env.PATH ?? ''}`;

/** A request as cosign 2.5 builds it (FORMATS.md §5). */
export function request(
  keyResourceID: string,
  methodName: string,
  args: Record<string, unknown> = {},
  hashFunc = 5,
): Record<string, unknown> {
  return {
    initOptions: {
      protocolVersion: 'v1',
      keyResourceID,
      hashFunc,
      rpcOptions: { keyVersion: '', remoteVerification: false },
    },
    methodName,
    [methodName]: args,
  };
}

export function signArgs(digest: string | null = null, hashFunc?: number): Record<string, unknown> {
  return {
    signOptions: {
      rpcOptions: { keyVersion: '', remoteVerification: false },
      messageOptions: { digest, ...(hashFunc ? { hashFunc } : {}) },
    },
  };
}

export interface PluginRun extends Run {
  json: Record<string, unknown>;
}

/** Runs the plugin with argv `v1 <json>` (or the raw argv given), stdin as given (else empty), like cosign. */
export function runPlugin(
  argv: string[] | Record<string, unknown>,
  options: { cwd: string; env?: Record<string, string | undefined>; input?: string | Buffer; node?: string[] },
): Promise<PluginRun> {
  const args = Array.isArray(argv) ? argv : ['v1', JSON.stringify(argv)];
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: options.cwd, XDG_CONFIG_HOME: join(options.cwd, '.config') };
  for (const name of ['COSIGN_PASSWORD', 'COSIGN_PKCS11_PIN', 'COSIGNKIT_DEBUG']) delete env[name];
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const [file, fileArgs] = options.node ? [process.execPath, [...options.node, PLUGIN_JS, ...args]] : [PLUGIN, args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, fileArgs, { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => {
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(stdout) as Record<string, unknown>;
      } catch {
        json = { unparsable: stdout };
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** The error answer of a run, checked to be the protocol's one-field shape. */
export function errorOf(run: PluginRun): string {
  expect(Object.keys(run.json), run.stdout).toEqual(['errorMessage']);
  return run.json.errorMessage as string;
}

export interface TestAgent {
  socket: string;
  env: Record<string, string>;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `cosignkit agent start` on a socket in `dir` (made 0700) and returns its pid, for afterAll. */
export async function startAgent(
  dir: string,
  env: Record<string, string | undefined> = {},
  ttl?: string,
): Promise<TestAgent> {
  mkdirSync(join(dir, 'agent'), { recursive: true, mode: 0o700 });
  const socket = join(dir, 'agent', 'agent.sock');
  const agentEnv = { ...env, COSIGNKIT_AGENT_SOCKET: socket, COSIGNKIT_DEBUG: '1' } as Record<string, string>;
  const started = await cosignkit(['--json', 'agent', 'start', ...(ttl ? ['--ttl', ttl] : [])], {
    cwd: dir,
    env: agentEnv,
  });
  expect(started.code, started.stderr).toBe(0);
  const pid = (JSON.parse(started.stdout) as { pid: number }).pid;
  delete agentEnv.COSIGNKIT_DEBUG;
  return {
    socket,
    env: agentEnv,
    pid,
    async stop() {
      await cosignkit(['agent', 'stop'], { cwd: dir, env: agentEnv });
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    },
  };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}
