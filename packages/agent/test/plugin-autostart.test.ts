import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { silentLogger } from '@cosignkit/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentClientOf } from '../src/client.js';
import { agentPaths } from '../src/paths.js';
import { AgentServer } from '../src/server.js';

// Seed 002: the plugin's first call starts the agent (one, however many first calls race), unless turned off;
// a hung backend in the agent ends the call with TIMEOUT instead of hanging cosign. The built plugin runs as
// cosign runs it: `node sigstore-kms-cosignkit.cjs v1 <request>`, one process per call.
const PLUGIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin', 'sigstore-kms-cosignkit.cjs');
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cosignkit-autostart-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Call {
  answer: Record<string, unknown>;
  stderr: string;
  ms: number;
}

function call(
  keyResourceID: string,
  methodName: string,
  env: Record<string, string>,
  cwd: string,
  args = {},
): Promise<Call> {
  const request = {
    initOptions: { protocolVersion: 'v1', keyResourceID, hashFunc: 5 },
    methodName,
    [methodName]: args,
  };
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PLUGIN, 'v1', JSON.stringify(request)], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: cwd, XDG_CONFIG_HOME: join(cwd, '.config'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve({ answer: JSON.parse(stdout) as Record<string, unknown>, stderr, ms: Date.now() - started });
      } catch {
        reject(new Error(`not JSON: ${stdout} ${stderr}`));
      }
    });
  });
}

/** The pids of live processes whose command line names `needle` (the test's own socket: only its agents). */
function processesNaming(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}

async function stopAgent(dir: string): Promise<void> {
  const client = agentClientOf({ COSIGNKIT_AGENT_DIR: dir });
  if (client) await client.request({ op: 'shutdown' }, undefined, 5000).catch(() => undefined);
  const socket = join(dir, 'agent.sock');
  for (let i = 0; i < 200 && processesNaming(socket).length > 0; i++) await new Promise((r) => setTimeout(r, 25));
}

describe('autostart', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await stopAgent(dir);
  });

  it('N concurrent first calls start one agent, and every call is answered through it', async () => {
    const work = join(root, 'concurrent');
    const dir = join(root, 'agent-concurrent');
    mkdirSync(work);
    dirs.push(dir);
    const env = { COSIGNKIT_AGENT_DIR: dir };
    const calls = await Promise.all(
      Array.from({ length: 6 }, () => call('cosignkit://file:keys/', 'supportedAlgorithms', env, work)),
    );
    for (const c of calls) {
      expect(c.answer).toEqual({ supportedAlgorithms: { supportedAlgorithms: expect.any(Array) } });
      expect(c.stderr).toBe('');
    }
    const socket = join(dir, 'agent.sock');
    // One daemon runs, and one ever started: each logs "agent starting" before it binds.
    expect(processesNaming(socket)).toHaveLength(1);
    const starts = readFileSync(`${socket}.log`, 'utf8').match(/ agent starting /g) ?? [];
    expect(starts).toHaveLength(1);
    expect(existsSync(`${socket}.starting`)).toBe(false);
    // The next call finds it running and starts nothing.
    await call('cosignkit://file:keys/', 'supportedAlgorithms', env, work);
    expect(readFileSync(`${socket}.log`, 'utf8').match(/ agent starting /g)).toHaveLength(1);
  });

  it('COSIGNKIT_AGENT_AUTOSTART=0 and "agent": {"autostart": false} start none; the call is served directly', async () => {
    const work = join(root, 'off');
    mkdirSync(work);
    const byEnv = join(root, 'agent-off-env');
    const answer = await call(
      'cosignkit://file:keys/',
      'supportedAlgorithms',
      { COSIGNKIT_AGENT_DIR: byEnv, COSIGNKIT_AGENT_AUTOSTART: '0' },
      work,
    );
    expect(answer.answer).toHaveProperty('supportedAlgorithms');
    expect(existsSync(join(byEnv, 'agent.sock'))).toBe(false);

    writeFileSync(join(work, 'cosignkit.config.json'), JSON.stringify({ agent: { autostart: false } }));
    const byConfig = join(root, 'agent-off-config');
    await call('cosignkit://file:keys/', 'supportedAlgorithms', { COSIGNKIT_AGENT_DIR: byConfig }, work);
    expect(existsSync(join(byConfig, 'agent.sock'))).toBe(false);
    expect(processesNaming(byConfig)).toEqual([]);
  });
});

describe('operation timeout', () => {
  let agent: AgentServer;
  let dir: string;
  let work: string;

  beforeAll(async () => {
    work = join(root, 'hang');
    dir = join(root, 'agent-hang');
    mkdirSync(work);
    // A backend whose store opens but never answers a signature: what a hung HSM looks like to the agent.
    const module = join(root, 'hang-backend.mjs');
    writeFileSync(
      module,
      `export const backend = {
  specVersion: 1, name: 'hang', schemes: ['hang'],
  capabilities: { generate: false, delete: false, algorithms: ['ecdsa-p256-sha256'], extractable: false },
  async open() {
    return { backend: 'hang', async getAlgorithm() { return 'ecdsa-p256-sha256'; },
      signDigest() { return new Promise(() => {}); }, async close() {} };
  },
  keyIdOf(ref) { return ref.path; },
};\n`,
    );
    agent = new AgentServer({
      paths: agentPaths({ COSIGNKIT_AGENT_DIR: dir }),
      ttlMs: 0,
      config: { backends: { hang: pathToFileURL(module).href } },
      env: {},
      logger: silentLogger,
      // What `agent.timeout` in the agent's config gives: announced to every client in the handshake.
      operationTimeoutMs: 500,
    });
    await agent.listen();
  });
  afterAll(() => agent.stop('test'));

  it("a backend that never answers ends the call with TIMEOUT after COSIGNKIT_AGENT_TIMEOUT (the caller's wins)", async () => {
    const digest = Buffer.alloc(32, 1).toString('base64');
    const result = await call(
      'cosignkit://hang:k',
      'signMessage',
      { COSIGNKIT_AGENT_DIR: dir, COSIGNKIT_AGENT_TIMEOUT: '1s' },
      work,
      { signOptions: { messageOptions: { digest } } },
    );
    expect(result.answer.errorMessage).toMatch(/did not answer within 1000 ms.*\[TIMEOUT\]$/);
    expect(result.ms).toBeLessThan(10_000);
  });

  it("without COSIGNKIT_AGENT_TIMEOUT, the agent's own (its config's agent.timeout)", async () => {
    const digest = Buffer.alloc(32, 1).toString('base64');
    const result = await call('cosignkit://hang:k', 'signMessage', { COSIGNKIT_AGENT_DIR: dir }, work, {
      signOptions: { messageOptions: { digest } },
    });
    expect(result.answer.errorMessage).toMatch(/did not answer within 500 ms.*\[TIMEOUT\]$/);
  });
});
