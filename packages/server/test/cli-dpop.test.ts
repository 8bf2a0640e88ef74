import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEV_TENANT, readDpopKey } from '../src/index.js';
import { startServer, type Running } from './harness.js';

// `cosignkit attest-blob --signer-url … --dpop-key FILE` (a real CLI process) against a real server on
// loopback whose OpTok is DPoP-bound (cnf.jkt): every request must carry an RFC 9449 proof by that key.
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(REPO, 'bin/cosignkit');
const run = promisify(execFile);

let s: Running;
let dir: string;
let token: string;

beforeAll(async () => {
  s = await startServer();
  dir = s.env.dir;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(join(dir, 'dpop.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const other = generateKeyPairSync('ed25519').privateKey;
  await writeFile(join(dir, 'other.jwk'), JSON.stringify(other.export({ format: 'jwk' })), { mode: 0o600 });
  const { thumbprint } = await readDpopKey(await readFile(join(dir, 'dpop.key')));
  token = await s.env.authority.issue({
    sub: 'ci-job',
    aud: 'cosignkit-signer',
    scope: 'signer.sign',
    tenant: DEV_TENANT,
    cnf: { jkt: thumbprint },
  });
  await writeFile(join(dir, 'dpop-token'), token, { mode: 0o600 });
  await writeFile(join(dir, 'poe'), s.env.poe, { mode: 0o600 });
  await writeFile(join(dir, 'artifact.txt'), 'dpop artifact\n');
  await writeFile(join(dir, 'predicate.json'), JSON.stringify({ builder: { id: 'ci' } }));
});
afterAll(async () => {
  await s?.close();
});

const attest = (extra: string[]) =>
  run(
    CLI,
    [
      'attest-blob',
      '--signer-url',
      s.url,
      '--token-file',
      'dpop-token',
      '--poe-file',
      'poe',
      '--ca-cert',
      s.env.files.caCert,
      '--scanner-image-digest',
      `sha256:${'b'.repeat(64)}`,
      '--predicate',
      'predicate.json',
      '--type',
      'slsaprovenance1',
      ...extra,
      'artifact.txt',
    ],
    { cwd: dir, env: { ...process.env, HOME: dir } },
  ).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe('attest-blob --signer-url with a DPoP-bound token', () => {
  it('signs with --dpop-key (fresh proofs, no client certificate); neither token nor proof reaches a log', async () => {
    const ok = await attest(['--dpop-key', 'dpop.key', '--output-file', 'dpop.env.json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/audit id/);
    const envelope = JSON.parse(await readFile(join(dir, 'dpop.env.json'), 'utf8'));
    expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
    const verified = await run(CLI, ['verify-dsse', '--dsse', 'dpop.env.json', '--key-file', s.env.files.publicKey], {
      cwd: dir,
    });
    expect(verified.stdout).toMatch(/verified/i);
    // The server saw a DPoP request (the audit records the caller) and logged neither secret.
    const logs = s.logLines.join('\n');
    expect(logs).toContain('"status":200');
    expect(logs).not.toContain(token);
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\.eyJ/);
    expect(ok.stderr + ok.stdout).not.toContain(token);
  });

  it('refuses locally, one line each: no --dpop-key for a bound token, another key, a key file others can read', async () => {
    const missing = await attest([]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/DPoP-bound .*--dpop-key/);
    const wrong = await attest(['--dpop-key', 'other.jwk']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toMatch(/not the key the token is bound to/);
    await writeFile(join(dir, 'open.key'), await readFile(join(dir, 'dpop.key')));
    await chmod(join(dir, 'open.key'), 0o644);
    const open = await attest(['--dpop-key', 'open.key']);
    expect(open.code).not.toBe(0);
    expect(open.stderr).toMatch(/readable by others/);
    for (const r of [missing, wrong, open]) expect(r.stderr).not.toContain(token);
  });

  it('the server itself refuses the bound token without a proof (the CLI is not the only check)', async () => {
    const c = await s.client({ token });
    const res = await c.request('POST', '/api/v1/signer/sign/dsse', {});
    expect(res.status).toBe(401);
  });
});
