import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lchownSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, cosignkit, tempHome } from './helpers.js';
import { alive, errorOf, request, runPlugin, signArgs, waitFor } from './plugin-harness.js';

// Issue 11, critical 2: another user plants the agent's directory (a link, or a directory of their own), or a
// server that is not the agent listens where the agent should. The CLI and the plugin must send it nothing
// secret, say so with AGENT_UNTRUSTED, and the real agent must still start (in a fresh private directory).
const UID = process.getuid!();
const NOBODY = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
const NOGROUP = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
const MESSAGE = 'an artifact\n';

let home: ReturnType<typeof tempHome>;
let tmp: string;
let env: Record<string, string | undefined>;
const servers: Server[] = [];
const pids: number[] = [];

/** A server that is not the agent: it records every byte it gets and answers each first line with `answer`. */
interface FakeAgent {
  received: () => string;
  connections: () => number;
}

async function fakeAgent(socket: string, answer: string): Promise<FakeAgent> {
  let received = '';
  let connections = 0;
  const server = createServer((conn) => {
    connections++;
    let answered = false;
    conn.on('data', (data: Buffer) => {
      received += data.toString('utf8');
      if (!answered && received.includes('\n')) {
        answered = true;
        conn.write(`${answer}\n`);
      }
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  chmodSync(socket, 0o600);
  servers.push(server);
  return { received: () => received, connections: () => connections };
}

/** The fake's files beside its socket, made to pass every check but the one under test: ours, 0600. */
function fakeToken(socket: string): string {
  const token = randomBytes(32).toString('hex');
  writeFileSync(`${socket}.token`, token, { mode: 0o600 });
  return token;
}

const HARVEST = JSON.stringify({ ok: false, needSecret: { kind: 'password', purpose: 'unlock', subject: 'cosign.key' } });
const BAD_PROOF = JSON.stringify({ v: 2, nonce: 'a'.repeat(64), proof: 'b'.repeat(64) });

beforeAll(async () => {
  home = tempHome();
  tmp = join(home.dir, 'tmp');
  mkdirSync(tmp, { mode: 0o1777 });
  chmodSync(tmp, 0o1777); // a shared, sticky temp dir, as /tmp
  // The default location: no override, no XDG_RUNTIME_DIR, so <TMPDIR>/cosignkit-agent-<uid>.
  env = { TMPDIR: tmp, XDG_RUNTIME_DIR: undefined, COSIGNKIT_AGENT_SOCKET: undefined, COSIGNKIT_AGENT_DIR: undefined, XDG_CACHE_HOME: undefined };
  writeFileSync(join(home.dir, 'artifact.txt'), MESSAGE);
  const made = await cosignkit(['generate-key-pair'], { cwd: home.dir, env: { ...env, COSIGNKIT_NO_AGENT: '1', COSIGN_PASSWORD: PASSWORD } });
  expect(made.code, made.stderr).toBe(0);
});
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const pid of pids.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(join(tmp), { recursive: true, force: true });
  mkdirSync(tmp, { mode: 0o1777 });
  chmodSync(tmp, 0o1777);
  rmSync(join(home.dir, '.cache'), { recursive: true, force: true });
});
afterAll(() => home?.cleanup());

const defaultDir = () => join(tmp, `cosignkit-agent-${UID}`);
const signBlob = (extra: Record<string, string | undefined> = {}) =>
  cosignkit(['--engine', 'native', 'sign-blob', '--key', 'cosign.key', 'artifact.txt'], { cwd: home.dir, env: { ...env, COSIGN_PASSWORD: PASSWORD, ...extra } });
const pluginSign = (extra: Record<string, string | undefined> = {}) =>
  runPlugin(request('cosign.key', 'signMessage', signArgs(null)), { cwd: home.dir, env: { ...env, COSIGN_PASSWORD: PASSWORD, ...extra }, input: MESSAGE });

/** `agent start` on the default location; its pid is killed after the test whatever happens. */
async function startDefaultAgent(): Promise<{ pid: number; socket: string; stdout: string; stderr: string }> {
  const started = await cosignkit(['--json', 'agent', 'start'], { cwd: home.dir, env });
  expect(started.code, started.stderr).toBe(0);
  const status = JSON.parse(started.stdout) as { pid: number; socket: string };
  pids.push(status.pid);
  return { ...status, stdout: started.stdout, stderr: started.stderr };
}

async function stopDefaultAgent(pid: number): Promise<void> {
  const stopped = await cosignkit(['agent', 'stop'], { cwd: home.dir, env });
  expect(stopped.stdout).toContain(`agent stopped (pid ${pid})`);
  await waitFor(() => !alive(pid));
}

describe('the agent against a planted directory or a fake server', () => {
  it('a symbolic link planted at the default directory, to a fake agent: nothing is sent to it, AGENT_UNTRUSTED', async () => {
    // The fake's directory passes every check the old code made through the link (ours, 0700, a socket of
    // ours, a token file 0600): only the link gives it away.
    const evil = join(tmp, 'evil');
    mkdirSync(evil, { mode: 0o700 });
    const fake = await fakeAgent(join(evil, 'agent.sock'), HARVEST);
    fakeToken(join(evil, 'agent.sock'));
    symlinkSync(evil, defaultDir());
    lchownSync(defaultDir(), NOBODY, NOGROUP);

    const cli = await signBlob();
    expect(cli.code, cli.stderr).toBe(0); // signed without the agent: a planted link cannot stop the user
    expect(cli.stderr).toMatch(/not using the agent: .*cosignkit-agent-\d+ is a symbolic link \[AGENT_UNTRUSTED\]/);
    const plugin = await pluginSign();
    expect(plugin.json, plugin.stderr).toHaveProperty('signMessage.signature');
    expect(plugin.stderr).toContain('[AGENT_UNTRUSTED]');
    const status = await cosignkit(['agent', 'status'], { cwd: home.dir, env });
    expect(status.code).toBe(1);
    expect(status.stderr.trim()).toMatch(/^cosignkit: .* is a symbolic link \[AGENT_UNTRUSTED\]$/);
    expect(fake.connections()).toBe(0);
    expect(fake.received()).toBe('');

    // The agent still starts: in a fresh private directory, found by clients through a pointer only we can write.
    const agent = await startDefaultAgent();
    expect(agent.stderr).toMatch(/is a symbolic link; the agent uses .*cosignkit-agent-\d+-\w+ instead/);
    const dir = join(agent.socket, '..');
    expect(dir).toMatch(new RegExp(`cosignkit-agent-${UID}-\\w{6}$`));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const pointer = join(home.dir, '.cache', 'cosignkit', 'agent', 'dir');
    expect(readFileSync(pointer, 'utf8').trim()).toBe(dir);
    expect(statSync(pointer).mode & 0o777).toBe(0o600);
    expect(readlinkSync(defaultDir())).toBe(evil); // left alone
    const through = await pluginSign();
    expect(through.json, through.stderr).toHaveProperty('signMessage.signature');
    expect(readFileSync(`${agent.socket}.log`, 'utf8')).toMatch(/opened a key store/);
    expect((await cosignkit(['agent', 'status'], { cwd: home.dir, env })).stdout).toContain(`pid:     ${agent.pid}`);
    expect(fake.connections()).toBe(0);
    await stopDefaultAgent(agent.pid);
  });

  it('a directory another user created first is refused, and the agent still starts; a second start reuses it', async () => {
    mkdirSync(defaultDir(), { mode: 0o700 });
    chownSync(defaultDir(), NOBODY, NOGROUP);
    const explicit = await cosignkit(['agent', 'status'], { cwd: home.dir, env: { ...env, COSIGNKIT_AGENT_DIR: defaultDir() } });
    expect(explicit.stderr.trim()).toMatch(new RegExp(`belongs to another user \\(uid ${NOBODY}\\) \\[AGENT_UNTRUSTED\\]$`));
    // Chosen explicitly, such a directory is refused at start too (no silent fallback from the user's choice).
    const refused = await cosignkit(['agent', 'run'], { cwd: home.dir, env: { ...env, COSIGNKIT_AGENT_DIR: defaultDir() } });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(/^cosignkit: .*belongs to another user .*\[AGENT_UNTRUSTED\]$/);

    const agent = await startDefaultAgent();
    expect(agent.socket).toMatch(new RegExp(`cosignkit-agent-${UID}-\\w{6}/agent\\.sock$`));
    const first = await signBlob();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain('warning');
    const second = await signBlob({ COSIGN_PASSWORD: undefined }); // the agent holds the decrypted key now
    expect(second.code, second.stderr).toBe(0);
    await stopDefaultAgent(agent.pid);
    const again = await startDefaultAgent();
    expect(again.socket).toBe(agent.socket);
    await stopDefaultAgent(again.pid);
  });

  it('a fake server at the right path that does not know the token: refused before the password or token is sent', async () => {
    const dir = join(home.dir, 'fake-right-path');
    mkdirSync(dir, { mode: 0o700 });
    const socket = join(dir, 'agent.sock');
    const token = fakeToken(socket);
    for (const answer of [BAD_PROOF, HARVEST, '{"v":2}', 'x'.repeat(4096)]) {
      const fake = await fakeAgent(socket, answer);
      const fakeEnv = { COSIGNKIT_AGENT_SOCKET: socket };
      const plugin = await pluginSign(fakeEnv);
      expect(errorOf(plugin)).toMatch(/^cosignkit: the server on .* (did not prove it holds the token|answered the handshake with too much data).*nothing secret was sent \[AGENT_UNTRUSTED\]$/);
      const cli = await signBlob(fakeEnv);
      expect(cli.code).toBe(1);
      expect(cli.stderr.trim()).toMatch(/^cosignkit: the server on .* \[AGENT_UNTRUSTED\]$/);
      expect(fake.connections()).toBe(2);
      // All it ever got: two hellos, each a fresh nonce.
      const lines = fake.received().trim().split('\n');
      expect(lines).toHaveLength(2);
      for (const line of lines) expect(Object.keys(JSON.parse(line) as object).sort()).toEqual(['hello', 'v']);
      expect(fake.received()).not.toContain(PASSWORD);
      expect(fake.received()).not.toContain(token);
      await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
      rmSync(socket, { force: true });
    }
  });

  it('the token file must be a private regular file: a link or a readable file is refused', async () => {
    const dir = join(home.dir, 'token-checks');
    mkdirSync(dir, { mode: 0o700 });
    const socket = join(dir, 'agent.sock');
    const fake = await fakeAgent(socket, BAD_PROOF);
    const elsewhere = join(home.dir, 'elsewhere.token');
    writeFileSync(elsewhere, randomBytes(32).toString('hex'), { mode: 0o600 });
    symlinkSync(elsewhere, `${socket}.token`);
    const linked = await cosignkit(['agent', 'status', '--socket', socket], { cwd: home.dir, env });
    expect(linked.stderr.trim()).toMatch(/token file .* cannot be opened safely \(it is a symbolic link\) \[AGENT_UNTRUSTED\]$/);
    rmSync(`${socket}.token`);
    writeFileSync(`${socket}.token`, randomBytes(32).toString('hex'), { mode: 0o644 });
    chmodSync(`${socket}.token`, 0o644);
    const readable = await cosignkit(['agent', 'status', '--socket', socket], { cwd: home.dir, env });
    expect(readable.stderr.trim()).toMatch(/token file is not private: .* open to other users \(mode 644; it must be 600\) \[AGENT_UNTRUSTED\]$/);
    expect(fake.connections()).toBe(0);
    expect(existsSync(elsewhere)).toBe(true);
  });
});
