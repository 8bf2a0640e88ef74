import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSoftHsm, type SoftHsm } from '../../key-pkcs11/test/softhsm.js';
import { AgentClient, agentPaths } from '@cosignkit/agent';
import { newNonce, proofMatches, serverProof } from '../../agent/src/handshake.js';
import { LineReader, WIRE_VERSION, decode, encode } from '../../agent/src/wire.js';
import { PASSWORD, cosignkit, tempHome } from './helpers.js';
import { alive, errorOf, request, runPlugin, signArgs, startAgent, waitFor, type TestAgent } from './plugin-harness.js';

// The agent on its own: permissions, concurrency, a stale socket, SIGTERM, errors, the TTL, and the CLI using it.
const PIN = '7351-agent-pin';
const MESSAGE = 'signed through the agent\n';
let home: ReturnType<typeof tempHome>;
let hsm: SoftHsm;
let ref: string;
const agents: TestAgent[] = [];

beforeAll(async () => {
  home = tempHome();
  hsm = await startSoftHsm([]);
  await hsm.initToken('agent', PIN);
  ref = `pkcs11:token=agent;object=release?module-path=${hsm.modulePath}`;
  const made = await cosignkit(['key', 'generate', '--key', ref], {
    cwd: home.dir,
    env: { COSIGN_PKCS11_PIN: PIN, COSIGNKIT_AGENT_SOCKET: join(home.dir, 'none', 's') },
  });
  expect(made.code, made.stderr).toBe(0);
});
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
});
afterAll(async () => {
  await hsm?.stop();
  home?.cleanup();
});

async function agentIn(name: string, ttl?: string): Promise<{ dir: string; agent: TestAgent }> {
  const dir = join(home.dir, name);
  mkdirSync(dir, { recursive: true });
  const agent = await startAgent(dir, { SOFTHSM2_CONF: hsm.conf }, ttl);
  agents.push(agent);
  return { dir, agent };
}

function signatureOf(run: { json: Record<string, unknown> }): Buffer {
  return Buffer.from((run.json as { signMessage: { signature: string } }).signMessage.signature, 'base64');
}

/** Sends each line after the previous answer, and returns the answers (the agent's wire, spoken by hand). */
async function rawExchange(socket: string, lines: unknown[]): Promise<unknown[]> {
  const conn = connect(socket);
  const reader = new LineReader(conn);
  const answers: unknown[] = [];
  try {
    for (const line of lines) {
      conn.write(encode(line));
      const answer = await reader.next();
      if (answer === undefined) break;
      answers.push(decode(answer));
    }
  } finally {
    conn.destroy();
  }
  return answers;
}

function logOf(agent: TestAgent): string {
  return readFileSync(agentPaths({ COSIGNKIT_AGENT_SOCKET: agent.socket }).logFile, 'utf8');
}

describe('cosignkit agent', () => {
  it('start, status, a second start, stop: socket 0600 in a 0700 directory, token 0600', async () => {
    const { dir, agent } = await agentIn('lifecycle');
    const paths = agentPaths({ COSIGNKIT_AGENT_SOCKET: agent.socket });
    expect(statSync(paths.dir).mode & 0o777).toBe(0o700);
    expect(statSync(paths.socket).mode & 0o777).toBe(0o600);
    expect(statSync(paths.tokenFile).mode & 0o777).toBe(0o600);
    const status = await cosignkit(['agent', 'status'], { cwd: dir, env: agent.env });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`pid:     ${agent.pid}`);
    expect(status.stdout).toMatch(/stores: +none open/);
    const second = await cosignkit(['agent', 'start'], { cwd: dir, env: agent.env });
    expect(second.stdout).toContain(`already running (pid ${agent.pid})`);
    const stopped = await cosignkit(['agent', 'stop'], { cwd: dir, env: agent.env });
    expect(stopped.stdout).toContain(`agent stopped (pid ${agent.pid})`);
    await waitFor(() => !alive(agent.pid));
    expect(existsSync(paths.socket) || existsSync(paths.tokenFile)).toBe(false);
    const none = await cosignkit(['agent', 'status'], { cwd: dir, env: agent.env });
    expect(none.code).toBe(1);
    expect((await cosignkit(['agent', 'stop'], { cwd: dir, env: agent.env })).stdout).toContain('no agent is running');
  });

  it('serves concurrent plugin calls on one logged-in token session; the PIN is sent once and never logged', async () => {
    const { dir, agent } = await agentIn('concurrent');
    const env = { ...agent.env, COSIGN_PKCS11_PIN: PIN };
    const first = await runPlugin(request(ref, 'publicKey'), { cwd: dir, env });
    const pem = Buffer.from(
      (first.json as { publicKey: { publicKeyPEM: string } }).publicKey.publicKeyPEM,
      'base64',
    ).toString();
    // Without the PIN now: only an open store can serve these.
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        runPlugin(
          request(
            ref,
            'signMessage',
            signArgs(i % 2 ? null : createHash('sha256').update(`${MESSAGE}${i}`).digest('base64')),
          ),
          {
            cwd: dir,
            env: agent.env,
            input: `${MESSAGE}${i}`,
          },
        ),
      ),
    );
    runs.forEach((run, i) => {
      expect(run.json, run.stdout + run.stderr).toHaveProperty('signMessage.signature');
      expect(verify('sha256', Buffer.from(`${MESSAGE}${i}`), createPublicKey(pem), signatureOf(run))).toBe(true);
    });
    const log = logOf(agent);
    expect(log.match(/opened a key store/g)).toHaveLength(1);
    expect(log).toMatch(/key operation/); // debug logging is on: the operations are there, the PIN is not
    expect(log).not.toContain(PIN);
  });

  it('a key it cannot open is an error answer, and the agent keeps serving', async () => {
    // The PIN cases first: once a store is open, the agent no longer asks for its PIN.
    const { dir, agent } = await agentIn('errors');
    const env = { ...agent.env, COSIGN_PKCS11_PIN: PIN };
    const wrongPin = await runPlugin(request(ref, 'publicKey'), {
      cwd: dir,
      env: { ...agent.env, COSIGN_PKCS11_PIN: '0000' },
    });
    expect(errorOf(wrongPin)).toMatch(/\[PIN_INCORRECT\]$/);
    const noPin = await runPlugin(request(ref, 'publicKey'), { cwd: dir, env: agent.env });
    expect(errorOf(noPin)).toMatch(/COSIGN_PKCS11_PIN.*\[PASSWORD_REQUIRED\]$/);
    const unknownKey = await runPlugin(request(ref.replace('object=release', 'object=nope'), 'publicKey'), {
      cwd: dir,
      env,
    });
    expect(errorOf(unknownKey)).toMatch(/\[KEY_NOT_FOUND\]$/);
    const unknownToken = await runPlugin(request(ref.replace('token=agent', 'token=absent'), 'publicKey'), {
      cwd: dir,
      env,
    });
    expect(errorOf(unknownToken)).toMatch(/\[TOKEN_NOT_FOUND\]$/);
    expect(alive(agent.pid)).toBe(true);
    const good = await runPlugin(request(ref, 'signMessage', signArgs(null)), { cwd: dir, env, input: MESSAGE });
    expect(good.json).toHaveProperty('signMessage.signature');
    expect(logOf(agent)).not.toContain(PIN);
  });

  it('a request with a wrong token is refused', async () => {
    const { agent } = await agentIn('token');
    const paths = agentPaths({ COSIGNKIT_AGENT_SOCKET: agent.socket });
    // A client with another token cannot even verify the agent: it stops before sending its request.
    const forged = new AgentClient(paths, Buffer.alloc(32, 0xab));
    await expect(forged.request({ op: 'ping' })).rejects.toMatchObject({ code: 'AGENT_UNTRUSTED' });
    const real = new AgentClient(paths, Buffer.from(readFileSync(paths.tokenFile, 'utf8').trim(), 'hex'));
    await expect(real.request({ op: 'ping' })).resolves.toMatchObject({ pid: agent.pid });
    // The agent's side, spoken raw: its proof checks out with the real token, and a wrong client proof is refused.
    const token = Buffer.from(readFileSync(paths.tokenFile, 'utf8').trim(), 'hex');
    const hello = newNonce();
    const [challenge, refused] = await rawExchange(paths.socket, [
      { v: WIRE_VERSION, hello },
      { v: WIRE_VERSION, op: 'ping', proof: 'cd'.repeat(32) },
    ]);
    const { nonce, proof } = challenge as { nonce: string; proof: string };
    expect(proofMatches(serverProof(token, hello, nonce), proof)).toBe(true);
    expect(refused).toEqual({
      ok: false,
      error: { code: 'AGENT_UNTRUSTED', message: 'the agent refused the request: wrong token' },
    });
    // A client of the old wire (the token in the request) is told to upgrade, and learns nothing.
    const [old] = await rawExchange(paths.socket, [{ v: 1, token: token.toString('hex'), op: 'ping' }]);
    expect(old).toEqual({
      ok: false,
      error: { code: 'USAGE', message: `the agent speaks wire version ${WIRE_VERSION}; upgrade or restart it` },
    });
    expect(logOf(agent)).toMatch(/refused a request with a wrong token/);
  });

  it('a second user cannot use the socket: the directory, the socket mode and the token file each refuse', async () => {
    const { agent } = await agentIn('other-user');
    const paths = agentPaths({ COSIGNKIT_AGENT_SOCKET: agent.socket });
    // Let `nobody` reach the agent's directory (home.dir is 0700), so that each layer is tested on its own.
    chmodSync(home.dir, 0o711);
    chmodSync(join(home.dir, 'other-user'), 0o711);
    const probe = `
      const net = require('node:net'); const fs = require('node:fs');
      let token; try { fs.readFileSync(process.argv[2]); token = 'READ'; } catch (e) { token = e.code; }
      const s = net.connect(process.argv[1]);
      s.on('connect', () => { console.log('CONNECTED ' + token); s.destroy(); });
      s.on('error', (e) => console.log(e.code + ' ' + token));`;
    const asNobody = () => {
      const run = spawnSync(
        'setpriv',
        [
          '--reuid=nobody',
          '--regid=nogroup',
          '--clear-groups',
          process.execPath,
          '-e',
          probe,
          paths.socket,
          paths.tokenFile,
        ],
        { encoding: 'utf8' },
      );
      if (run.error || run.status !== 0)
        throw new Error(`cannot run a client as nobody with setpriv: ${run.error?.message ?? run.stderr}`);
      return run.stdout.trim();
    };
    try {
      expect(asNobody()).toBe('EACCES EACCES'); // the 0700 directory
      chmodSync(paths.dir, 0o711);
      expect(asNobody()).toBe('EACCES EACCES'); // the 0600 socket and token file
      // The same probe as the owner gets through: the refusals above are the permissions, not the probe.
      const owner = spawnSync(process.execPath, ['-e', probe, paths.socket, paths.tokenFile], { encoding: 'utf8' });
      expect(owner.stdout.trim()).toBe('CONNECTED READ');
      // A client refuses a directory others can enter: it would not trust such an agent with a PIN.
      const plugin = await runPlugin(request(ref, 'publicKey'), {
        cwd: home.dir,
        env: { ...agent.env, COSIGN_PKCS11_PIN: PIN },
      });
      expect(plugin.stderr).toMatch(/not using the agent: .* open to other users/);
    } finally {
      chmodSync(paths.dir, 0o700);
      chmodSync(join(home.dir, 'other-user'), 0o700);
      chmodSync(home.dir, 0o700);
    }
  });

  it("a dead agent's socket: the plugin works alone, and a new agent replaces the socket", async () => {
    const { dir, agent } = await agentIn('stale');
    process.kill(agent.pid, 'SIGKILL');
    await waitFor(() => !alive(agent.pid));
    expect(existsSync(agent.socket)).toBe(true);
    const alone = await runPlugin(request(ref, 'publicKey'), {
      cwd: dir,
      env: { ...agent.env, COSIGN_PKCS11_PIN: PIN },
    });
    expect(alone.json).toHaveProperty('publicKey.publicKeyPEM');
    expect((await cosignkit(['agent', 'status'], { cwd: dir, env: agent.env })).code).toBe(1);
    const next = await startAgent(dir, { SOFTHSM2_CONF: hsm.conf });
    agents.push(next);
    expect(next.pid).not.toBe(agent.pid);
    expect(logOf(next)).toContain('replaced the socket of an agent that is gone');
  });

  it('SIGTERM: every store closed, socket and token removed', async () => {
    const { dir, agent } = await agentIn('sigterm');
    const opened = await runPlugin(request(ref, 'publicKey'), {
      cwd: dir,
      env: { ...agent.env, COSIGN_PKCS11_PIN: PIN },
    });
    expect(opened.json).toHaveProperty('publicKey.publicKeyPEM');
    process.kill(agent.pid, 'SIGTERM');
    await waitFor(() => !alive(agent.pid));
    const paths = agentPaths({ COSIGNKIT_AGENT_SOCKET: agent.socket });
    expect(existsSync(paths.socket)).toBe(false);
    expect(existsSync(paths.tokenFile)).toBe(false);
    expect(logOf(agent)).toMatch(/agent stopping \{"reason":"SIGTERM"\}[\s\S]*agent stopped \{"closedStores":1\}/);
  });

  it('closes a store idle longer than the TTL; the next call opens it again with the secret', async () => {
    const { dir, agent } = await agentIn('ttl', '1s');
    const env = { ...agent.env, COSIGN_PKCS11_PIN: PIN };
    expect((await runPlugin(request(ref, 'publicKey'), { cwd: dir, env })).json).toHaveProperty('publicKey');
    await waitFor(() => logOf(agent).includes('closed an idle key store'), 10_000);
    const status = await cosignkit(['--json', 'agent', 'status'], { cwd: dir, env: agent.env });
    expect((JSON.parse(status.stdout) as { stores: unknown[] }).stores).toEqual([]);
    const noPin = await runPlugin(request(ref, 'publicKey'), { cwd: dir, env: agent.env });
    expect(errorOf(noPin)).toMatch(/\[PASSWORD_REQUIRED\]$/);
  });

  it('the plugin through the agent loads no core and no backend', async () => {
    const { dir, agent } = await agentIn('lean');
    const env = { ...agent.env, COSIGN_PKCS11_PIN: PIN };
    const hook = `data:text/javascript,${encodeURIComponent(
      "import { registerHooks } from 'node:module'; registerHooks({ resolve(s, c, n) { process.stderr.write('RESOLVE ' + s + '\\n'); return n(s, c); } });",
    )}`;
    const digest = createHash('sha256').update(MESSAGE).digest('base64');
    const run = await runPlugin(request(ref, 'signMessage', signArgs(digest)), {
      cwd: dir,
      env,
      node: ['--import', hook],
    });
    expect(run.json, run.stderr).toHaveProperty('signMessage.signature');
    // Besides built-ins, the bin is all the module loader resolves: its bundle runs through vm.Script, and
    // takes node:net and the other built-ins from process.getBuiltinModule.
    const resolved = run.stderr
      .split('\n')
      .filter((line) => line.startsWith('RESOLVE ') && !isBuiltin(line.slice('RESOLVE '.length)));
    expect(resolved, run.stderr).toEqual([expect.stringMatching(/^RESOLVE file:.*\/sigstore-kms-cosignkit\.cjs$/)]);
    expect(run.stderr).not.toMatch(/@cosignkit\/|graphene/);
  });

  it('the CLI signs through the agent; --no-agent opens the key itself', async () => {
    const { dir, agent } = await agentIn('cli');
    const sign = (extra: string[], env: Record<string, string>) =>
      cosignkit(
        [...extra, '--engine', 'native', 'sign-blob', '--key', ref, '--output-signature', 'out.sig', 'artifact.txt'],
        { cwd: dir, env },
      );
    mkdirSync(dir, { recursive: true });
    await import('node:fs').then((fs) => fs.writeFileSync(join(dir, 'artifact.txt'), MESSAGE));
    const first = await sign([], { ...agent.env, COSIGN_PKCS11_PIN: PIN });
    expect(first.code, first.stderr).toBe(0);
    const again = await sign([], agent.env);
    expect(again.code, again.stderr).toBe(0);
    const bypass = await sign(['--no-agent'], agent.env);
    expect(bypass.code).toBe(1);
    expect(bypass.stderr).toContain('PASSWORD_REQUIRED');
    // A file key: the password travels once, then the agent holds the decrypted key.
    const made = await cosignkit(['generate-key-pair', '--output-key-prefix', 'cli'], {
      cwd: dir,
      env: { ...agent.env, COSIGN_PASSWORD: PASSWORD },
    });
    expect(made.code, made.stderr).toBe(0);
    const fileSign = (env: Record<string, string>) =>
      cosignkit(['--engine', 'native', 'sign-blob', '--key', 'cli.key', 'artifact.txt'], { cwd: dir, env });
    expect((await fileSign({ ...agent.env, COSIGN_PASSWORD: PASSWORD })).code).toBe(0);
    expect((await fileSign(agent.env)).code).toBe(0);
    expect(logOf(agent)).not.toContain(PASSWORD);
    expect(logOf(agent)).not.toContain(PIN);
  });
});
