import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SIGN_ROUTE } from '../src/index.js';
import { signBody, startServer, type Running } from './harness.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const COSIGN = join(REPO, '.tools/cosign/usr/bin/cosign');
const EMPTY_TRUSTED_ROOT = JSON.stringify({
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
});

function run(file: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env: { ...process.env, HOME: cwd }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

let s: Running;
beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => {
  await s?.close();
});

describe('what the signer returns verifies with cosignkit and the real cosign', () => {
  it('envelope → cosignkit verify-dsse; bundle and envelope → cosign verify-blob-attestation; verify-log finds it', async () => {
    const dir = s.env.dir;
    const artifact = Buffer.from('release artifact\n');
    await writeFile(join(dir, 'artifact.txt'), artifact);
    await writeFile(join(dir, 'other.txt'), 'something else\n');
    await writeFile(join(dir, 'trusted_root.json'), EMPTY_TRUSTED_ROOT);
    const sha256 = createHash('sha256').update(artifact).digest('hex');
    const client = await s.client();
    const res = await client.request(
      'POST',
      SIGN_ROUTE,
      signBody(s.env, { subject: [{ name: 'artifact.txt', digest: { sha256 } }] }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const body = res.body as any;
    await writeFile(join(dir, 'env.json'), JSON.stringify(body.envelope));
    await writeFile(join(dir, 'bundle.json'), JSON.stringify(body.bundle));

    const ck = await run(
      join(REPO, 'bin/cosignkit'),
      ['verify-dsse', '--dsse', 'env.json', '--key-file', s.env.files.publicKey],
      dir,
    );
    expect(ck.code, ck.out).toBe(0);
    const ckBundle = await run(
      join(REPO, 'bin/cosignkit'),
      ['verify-dsse', '--dsse', 'bundle.json', '--key-file', s.env.files.publicKey],
      dir,
    );
    expect(ckBundle.code, ckBundle.out).toBe(0);
    const log = await run(
      join(REPO, 'bin/cosignkit'),
      ['verify-log', '--log', s.env.files.auditLog, '--dsse', 'env.json'],
      dir,
    );
    expect(log.code, log.out).toBe(0);
    expect(log.out).toMatch(/Log intact/);

    const type = 'https://slsa.dev/provenance/v1';
    const viaBundle = await run(
      COSIGN,
      [
        'verify-blob-attestation',
        '--key',
        s.env.files.publicKey,
        '--insecure-ignore-tlog=true',
        '--new-bundle-format',
        '--trusted-root',
        'trusted_root.json',
        '--type',
        type,
        '--bundle',
        'bundle.json',
        'artifact.txt',
      ],
      dir,
    );
    expect(viaBundle.code, viaBundle.out).toBe(0);
    const viaEnvelope = await run(
      COSIGN,
      [
        'verify-blob-attestation',
        '--key',
        s.env.files.publicKey,
        '--insecure-ignore-tlog=true',
        '--type',
        type,
        '--signature',
        'env.json',
        'artifact.txt',
      ],
      dir,
    );
    expect(viaEnvelope.code, viaEnvelope.out).toBe(0);
    // The subject is really checked: another file fails.
    const wrong = await run(
      COSIGN,
      [
        'verify-blob-attestation',
        '--key',
        s.env.files.publicKey,
        '--insecure-ignore-tlog=true',
        '--new-bundle-format',
        '--trusted-root',
        'trusted_root.json',
        '--type',
        type,
        '--bundle',
        'bundle.json',
        'other.txt',
      ],
      dir,
    );
    expect(wrong.code).not.toBe(0);
  });
});
