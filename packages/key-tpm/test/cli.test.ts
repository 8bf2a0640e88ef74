// End to end through the real CLI (bin/cosignkit) and the real cosign: a key made in a swtpm, its public key
// printed, a blob signed natively, and cosign verifying the signature.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwtpm, type Swtpm } from './swtpm-harness.js';

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
const CLI = join(ROOT, 'bin/cosignkit');
// The key-tpm package does not depend on the CLI: without its build this file is skipped, and says so.
const COSIGN =
  process.env.COSIGN_PATH ??
  (existsSync(join(ROOT, '.tools/cosign/usr/bin/cosign')) ? join(ROOT, '.tools/cosign/usr/bin/cosign') : 'cosign');

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

let tpm: Swtpm;
let dir: string;
let env: NodeJS.ProcessEnv;

async function sh(file: string, args: string[]): Promise<Ran> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd: dir, env, maxBuffer: 1 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
const cosignkit = (...args: string[]) => sh(CLI, args);

beforeAll(async () => {
  tpm = await startSwtpm();
  dir = await mkdtemp(join(tmpdir(), 'cosignkit-tpm-cli-'));
  // The keystore home by environment, the TCTI by the project config file; no user config of the machine's.
  env = {
    ...process.env,
    COSIGNKIT_TPM_HOME: join(dir, 'tpm-home'),
    XDG_CONFIG_HOME: join(dir, 'xdg'),
    XDG_DATA_HOME: join(dir, 'data'),
  };
  await writeFile(join(dir, 'cosignkit.config.json'), JSON.stringify({ backends: { tpm: { tcti: tpm.tcti } } }));
  await writeFile(join(dir, 'artifact.txt'), 'an artifact signed in a TPM\n');
});
afterAll(async () => {
  await tpm?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// scripts/test builds every package first; a missing CLI build is a failure here, never a skip.
if (!existsSync(join(ROOT, 'packages/cli/dist/bin/cosignkit.cjs'))) {
  throw new Error('packages/cli/dist is missing: run scripts/setup (it builds every package)');
}

describe('cosignkit CLI with tpm keys', () => {
  it('key generate makes P-256 and P-384 keys in the TPM; key list shows both', async () => {
    const p256 = await cosignkit('key', 'generate', '--curve', 'P256', '--key', 'tpm:release');
    expect(p256.code, p256.stderr).toBe(0);
    expect(p256.stdout).toMatch(/tpm:release\s+ecdsa-p256-sha256\s+[0-9a-f]{64}/);
    const p384 = await cosignkit('key', 'generate', '--key', 'tpm:release384?curve=p384');
    expect(p384.code, p384.stderr).toBe(0);
    expect(p384.stdout).toContain('ecdsa-p384-sha384');
    const listed = await cosignkit('key', 'list', '--backend', 'tpm');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/tpm:release\s+ecdsa-p256-sha256/);
    expect(listed.stdout).toMatch(/tpm:release384\?curve=p384\s+ecdsa-p384-sha384/);
  });

  it('cosign verify-blob accepts what sign-blob --engine native signed with the P-256 TPM key', async () => {
    const pub = await cosignkit('public-key', '--key', 'tpm:release');
    expect(pub.code, pub.stderr).toBe(0);
    expect(pub.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    await writeFile(join(dir, 'release.pub'), pub.stdout);
    const signed = await cosignkit(
      'sign-blob',
      '--engine',
      'native',
      '--key',
      'tpm:release',
      '--output-signature',
      'release.sig',
      'artifact.txt',
    );
    expect(signed.code, signed.stderr).toBe(0);
    const verified = await sh(COSIGN, [
      'verify-blob',
      '--key',
      'release.pub',
      '--signature',
      'release.sig',
      '--insecure-ignore-tlog=true',
      'artifact.txt',
    ]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stderr).toContain('Verified OK');
    await writeFile(join(dir, 'other.txt'), 'another artifact\n');
    const wrongFile = await sh(COSIGN, [
      'verify-blob',
      '--key',
      'release.pub',
      '--signature',
      'release.sig',
      '--insecure-ignore-tlog=true',
      'other.txt',
    ]);
    expect(wrongFile.code).not.toBe(0);
  });

  // cosign checks every ECDSA key-file signature over SHA-256, P-384 keys too: the TPM signs a SHA-256 digest then.
  it('cosign verify-blob accepts what sign-blob signed with the P-384 TPM key', async () => {
    const pub = await cosignkit('public-key', '--key', 'tpm:release384');
    expect(pub.code, pub.stderr).toBe(0);
    await writeFile(join(dir, 'release384.pub'), pub.stdout);
    const signed = await cosignkit(
      'sign-blob',
      '--engine',
      'native',
      '--key',
      'tpm:release384',
      '--output-signature',
      'release384.sig',
      'artifact.txt',
    );
    expect(signed.code, signed.stderr).toBe(0);
    const verified = await sh(COSIGN, [
      'verify-blob',
      '--key',
      'release384.pub',
      '--signature',
      'release384.sig',
      '--insecure-ignore-tlog=true',
      'artifact.txt',
    ]);
    expect(verified.code, verified.stderr).toBe(0);
    const crossed = await sh(COSIGN, [
      'verify-blob',
      '--key',
      'release384.pub',
      '--signature',
      'release.sig',
      '--insecure-ignore-tlog=true',
      'artifact.txt',
    ]);
    expect(crossed.code).not.toBe(0);
  });

  it('key delete removes the key; public-key then fails with KEY_NOT_FOUND', async () => {
    const deleted = await cosignkit('key', 'delete', '--yes', '--key', 'tpm:release384');
    expect(deleted.code, deleted.stderr).toBe(0);
    const gone = await cosignkit('public-key', '--key', 'tpm:release384');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('KEY_NOT_FOUND');
  });
});
