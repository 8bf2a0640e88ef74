import { afterAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { verifyLog } from '@cosignkit/dsse';
import { SignerClient, SIGN_ROUTE } from '../src/index.js';
import { signBody } from './harness.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(REPO, 'bin/cosignkit');
const run = promisify(execFile);
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** `cosignkit serve --dev` as a real process; resolves once dev.json is written. */
async function serveDev(dir: string): Promise<{ child: ChildProcess; dev: Record<string, any>; out: () => string }> {
  const child = spawn(CLI, ['serve', '--dev', '--dir', dir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: dir },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const deadline = Date.now() + 60_000;
  while (!out.includes('signer listening')) {
    if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${out}`);
    if (Date.now() > deadline) throw new Error(`serve did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, dev: JSON.parse(await readFile(join(dir, 'dev.json'), 'utf8')), out: () => out };
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((r) => child.once('exit', (code) => r(code)));
}

describe('cosignkit serve --dev (a real process)', () => {
  it('serves the README flow: curl with the dev.json material signs, attest-blob --signer-url signs, SIGTERM drains', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cosignkit-serve-dev-'));
    dirs.push(dir);
    const { child, dev, out } = await serveDev(dir);
    try {
      for (const key of ['caCert', 'clientCert', 'clientKey', 'auditLog', 'publicKey'])
        expect(dev[key].startsWith('/')).toBe(true);
      expect((await stat(dev.clientKey)).mode & 0o777).toBe(0o600);
      expect((await stat(join(dir, 'cosign.key'))).mode & 0o777).toBe(0o600);
      // The README's curl, verbatim in shape.
      const body = JSON.stringify({
        subject: [{ name: 'app.tgz', digest: { sha256: 'a'.repeat(64) } }],
        predicateType: 'https://slsa.dev/provenance/v1',
        predicate: { builder: { id: 'local' } },
        scannerImageDigest: `sha256:${'b'.repeat(64)}`,
        poe: { format: 'jwt', value: dev.poe },
      });
      await writeFile(join(dir, 'req.json'), body);
      await writeFile(join(dir, 'auth.txt'), `Authorization: Bearer ${dev.opTok}\n`, { mode: 0o600 });
      const curl = await run(
        'curl',
        [
          '-sS',
          '--cacert',
          dev.caCert,
          '--cert',
          dev.clientCert,
          '--key',
          dev.clientKey,
          '-H',
          '@auth.txt',
          '-H',
          'content-type: application/json',
          '--data-binary',
          '@req.json',
          `${dev.url}${SIGN_ROUTE}`,
        ],
        { cwd: dir },
      );
      const answer = JSON.parse(curl.stdout);
      expect(answer.identity.mode).toBe('kms');
      expect(answer.quota.plan).toBe('dev');

      // The CLI client.
      await writeFile(join(dir, 'artifact.txt'), 'hello\n');
      await writeFile(join(dir, 'predicate.json'), '{"builder":{"id":"ci"}}');
      await writeFile(join(dir, 'token'), dev.opTok, { mode: 0o600 });
      await writeFile(join(dir, 'poe'), dev.poe, { mode: 0o600 });
      const attest = await run(
        CLI,
        [
          'attest-blob',
          '--signer-url',
          dev.url,
          '--token-file',
          'token',
          '--poe-file',
          'poe',
          '--ca-cert',
          dev.caCert,
          '--client-cert',
          dev.clientCert,
          '--client-key',
          dev.clientKey,
          '--scanner-image-digest',
          `sha256:${'b'.repeat(64)}`,
          '--predicate',
          'predicate.json',
          '--type',
          'slsaprovenance1',
          '--output-file',
          'env.json',
          '--bundle',
          'bundle.json',
          'artifact.txt',
        ],
        { cwd: dir, env: { ...process.env, HOME: dir } },
      );
      expect(attest.stderr).toMatch(/audit id/);
      const envelope = JSON.parse(await readFile(join(dir, 'env.json'), 'utf8'));
      const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString());
      expect(statement.subject[0].digest.sha256).toBe(createHash('sha256').update('hello\n').digest('hex'));
      const verified = await run(CLI, ['verify-dsse', '--dsse', 'env.json', '--key-file', dev.publicKey], { cwd: dir });
      expect(verified.stdout).toMatch(/Verified|verified/i);
      // --poe-mtls: the client certificate is the PoE.
      await run(
        CLI,
        [
          'attest-blob',
          '--signer-url',
          dev.url,
          '--token-file',
          'token',
          '--poe-mtls',
          '--ca-cert',
          dev.caCert,
          '--client-cert',
          dev.clientCert,
          '--client-key',
          dev.clientKey,
          '--scanner-image-digest',
          `sha256:${'b'.repeat(64)}`,
          '--predicate',
          'predicate.json',
          '--type',
          'slsaprovenance1',
          '--output-file',
          'env2.json',
          'artifact.txt',
        ],
        { cwd: dir, env: { ...process.env, HOME: dir } },
      );
      // A refusal is one line with a code, no token.
      await writeFile(join(dir, 'bad-token'), 'not.a.token');
      const refused = await run(
        CLI,
        [
          'attest-blob',
          '--signer-url',
          dev.url,
          '--token-file',
          'bad-token',
          '--poe-file',
          'poe',
          '--ca-cert',
          dev.caCert,
          '--client-cert',
          dev.clientCert,
          '--client-key',
          dev.clientKey,
          '--scanner-image-digest',
          `sha256:${'b'.repeat(64)}`,
          '--predicate',
          'predicate.json',
          'artifact.txt',
        ],
        { cwd: dir },
      ).catch((e) => e);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toMatch(/401/);
      expect(refused.stderr).not.toContain(dev.poe);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited(child)).toBe(0);
    expect(out()).toMatch(/"msg":"stopped"/);
    expect(out()).not.toContain(dev.opTok);
    const log = await verifyLog(dev.auditLog);
    expect(log.intact).toBe(true);
    expect(log.entries).toBe(4);
  }, 120_000);

  it('a config error stops start-up with one line and a code', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cosignkit-serve-bad-'));
    dirs.push(dir);
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ plans: {} }));
    const failed = await run(CLI, ['serve', '--config', join(dir, 'bad.json')], {
      cwd: dir,
      env: { ...process.env, HOME: dir },
    }).catch((e) => e);
    expect(failed.code).not.toBe(0);
    const lines = failed.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/bad\.json: .*authority.*\[USAGE\]/);
  });

  it('kill -9 under load: every audit id answered 200 is in the log, and the log verifies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cosignkit-serve-kill-'));
    dirs.push(dir);
    const first = await serveDev(dir);
    first.child.kill('SIGTERM');
    await exited(first.child);
    // Serve the dev config again with a plan large enough to never throttle, as `serve --config`.
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    config.plans.dev = { qps: 100000, concurrency: 1000, maxSubjects: 64, maxPredicateBytes: 65536 };
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    const serveConfig = async () => {
      const proc = spawn(CLI, ['serve', '--config', join(dir, 'config.json')], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, HOME: dir, COSIGN_PASSWORD: '' },
      });
      let text = '';
      proc.stdout!.on('data', (d: Buffer) => (text += d));
      proc.stderr!.on('data', (d: Buffer) => (text += d));
      const deadline = Date.now() + 60_000;
      for (;;) {
        const m = /"url":"(https:[^"]+)"/.exec(text);
        if (m) return { proc, url: m[1]! };
        if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`serve --config did not start: ${text}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const { proc: child, url } = await serveConfig();
    const dev = first.dev;
    const [ca, cert, key] = await Promise.all([
      readFile(dev.caCert),
      readFile(dev.clientCert),
      readFile(dev.clientKey),
    ]);
    const env = { poe: dev.poe } as never;
    const acknowledged: string[] = [];
    let failures = 0;
    let stop = false;
    const workers = Array.from({ length: 8 }, async () => {
      const client = new SignerClient({ url: url!, token: dev.opTok, ca, cert, key });
      while (!stop) {
        try {
          const res = await client.request('POST', SIGN_ROUTE, signBody(env));
          if (res.status === 200) acknowledged.push((res.body as any).auditId);
        } catch {
          failures++; // the connection died with the server: never acknowledged
        }
      }
      client.close();
    });
    while (acknowledged.length < 200) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await exited(child);
    stop = true;
    await Promise.all(workers);
    const text = await readFile(dev.auditLog, 'utf8');
    const ids = new Set(
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).record?.id),
    );
    const missing = acknowledged.filter((id) => !ids.has(id));
    expect(missing).toEqual([]);
    const log = await verifyLog(dev.auditLog);
    expect(log.problems).toEqual([]);
    expect(log.intact).toBe(true);
    expect(failures).toBeGreaterThan(0); // the kill happened under load

    // A restart takes over the killed server's lock and log and goes on with the chain.
    const again = await serveConfig();
    const client = new SignerClient({ url: again.url, token: dev.opTok, ca, cert, key });
    const after = await client.request('POST', SIGN_ROUTE, signBody(env));
    client.close();
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    again.proc.kill('SIGTERM');
    expect(await exited(again.proc)).toBe(0);
    const final = await verifyLog(dev.auditLog);
    expect(final.intact).toBe(true);
    expect(final.entries).toBeGreaterThan(ids.size);
  }, 180_000);
});
