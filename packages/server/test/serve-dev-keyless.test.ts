import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DevStack } from '@cosignkit/dev-stack';

// `cosignkit serve --dev --dev-stack STACK` (a real process) with @cosignkit/dev-stack (@sigstore/mock's
// Fulcio and Rekor and an OIDC issuer over real HTTP on loopback), then `attest-blob --signer-url
// --signing-mode keyless` (a real process), and the real cosign verifying the bundle by identity.
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(REPO, 'bin/cosignkit');
const COSIGN = join(REPO, '.tools/cosign/usr/bin/cosign');
const run = promisify(execFile);

let dir: string;
let stack: DevStack;
let child: ChildProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cosignkit-serve-keyless-'));
  stack = await DevStack.start({ identity: 'trial-signer@example.com' });
  await stack.writeFiles(join(dir, 'stack'));
});
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('serve --dev --dev-stack: keyless in the one-command trial', () => {
  it('signs keyless through the CLI client; the real cosign verifies the bundle with the identity in dev.json', async () => {
    const signerDir = join(dir, 'signer');
    child = spawn(CLI, ['serve', '--dev', '--dir', signerDir, '--port', '0', '--dev-stack', join(dir, 'stack')], {
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
    const dev = JSON.parse(await readFile(join(signerDir, 'dev.json'), 'utf8'));
    expect(dev.keyless.identity).toBe('trial-signer@example.com');
    expect((await stat(join(signerDir, 'sigstore-token'))).mode & 0o777).toBe(0o600);
    await writeFile(join(dir, 'token'), dev.opTok, { mode: 0o600 });
    await writeFile(join(dir, 'poe'), dev.poe, { mode: 0o600 });
    await writeFile(join(dir, 'app.tgz'), 'trial artifact\n');
    await writeFile(join(dir, 'provenance.json'), JSON.stringify({ builder: { id: 'local' } }));
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
        '--signing-mode',
        'keyless',
        '--predicate',
        'provenance.json',
        '--type',
        'slsaprovenance1',
        '--bundle',
        'app.bundle.json',
        '--output-file',
        'app.intoto.json',
        'app.tgz',
      ],
      { cwd: dir, env: { ...process.env, HOME: dir } },
    );
    expect(attest.stderr).toMatch(/certificate [0-9a-f]{16}… for .*trial-signer@example\.com/);
    const verify = (file: string) =>
      run(
        COSIGN,
        [
          'verify-blob-attestation',
          '--new-bundle-format',
          '--trusted-root',
          dev.keyless.trustedRoot,
          '--certificate-identity',
          dev.keyless.identity,
          '--certificate-oidc-issuer',
          dev.keyless.issuer,
          '--type',
          'https://slsa.dev/provenance/v1',
          '--bundle',
          'app.bundle.json',
          file,
        ],
        { cwd: dir, env: { ...process.env, HOME: dir, TUF_ROOT: join(dir, 'tuf') } },
      ).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );
    const ok = await verify('app.tgz');
    expect(ok.code, ok.out).toBe(0);
    await writeFile(join(dir, 'other.tgz'), 'another artifact\n');
    expect((await verify('other.tgz')).code).not.toBe(0);
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    expect(out).not.toContain(dev.opTok);
    expect(out).not.toContain(await readFile(join(signerDir, 'sigstore-token'), 'utf8'));
  }, 180_000);

  it('a --dev-stack dir without a stack stops start-up with one line', async () => {
    const failed = await run(
      CLI,
      ['serve', '--dev', '--dir', join(dir, 'x'), '--port', '0', '--dev-stack', join(dir, 'no-stack')],
      { cwd: dir, env: { ...process.env, HOME: dir } },
    ).catch((e: { code: number; stderr: string }) => e);
    expect((failed as { code: number }).code).not.toBe(0);
    const lines = (failed as { stderr: string }).stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/--dev-stack: .*stack\.json.*\[USAGE\]/);
  }, 60_000);
});
