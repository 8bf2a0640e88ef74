import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendRegistry, type KeyAlgorithm } from '@cosignkit/core';
import { createSigner } from 'cosignkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';
import { requirePrivateSecretService } from './secret-service.js';

requirePrivateSecretService();

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = join(root, 'bin', 'cosignkit');
// The CLI loads this package from its build, like any backend (scripts/test builds everything first).
function requireBuilds(): void {
  for (const built of ['packages/cli/dist/bin/cosignkit.cjs', 'packages/key-keyring/dist/index.js']) {
    if (!existsSync(join(root, built)))
      throw new Error(`${built} is missing: run scripts/setup (it builds every package)`);
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(argv: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The real cosign (2.5.0 from .tools, on PATH via scripts/env.sh) checks a signature offline. */
function cosignVerify(dir: string, file: string): Promise<Run> {
  return run(
    ['cosign', 'verify-blob', '--key', 'pub.pem', '--signature', 'sig', '--insecure-ignore-tlog=true', file],
    dir,
  );
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cosignkit-keyring-cosign-'));
  await writeFile(join(dir, 'artifact.txt'), 'an artifact signed with a key from the OS keyring\n');
  await writeFile(join(dir, 'other.txt'), 'a different artifact\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cosign verifies what a keyring key signed (in-process, native engine)', () => {
  const cases: [KeyAlgorithm, string][] = [
    ['ecdsa-p256-sha256', 'p256'],
    ['ed25519', 'ed25519'],
  ];
  for (const [algorithm, short] of cases) {
    it(algorithm, async () => {
      const registry = new BackendRegistry().register(backend);
      try {
        const ref = `keyring:cosignkit-interop/${short}`;
        const opened = await registry.open(ref);
        await opened.manager.generateKeyPair({ algorithm, label: opened.keyId });
        await writeFile(join(dir, 'pub.pem'), await opened.manager.getPublicKeyPem(opened.keyId));
        const result = await createSigner({ engine: 'native', keys: registry }).signBlobLocal(
          join(dir, 'artifact.txt'),
          {
            key: ref,
            outputSignature: join(dir, 'sig'),
          },
        );
        expect(result.engine).toBe('native');
        const ok = await cosignVerify(dir, 'artifact.txt');
        expect(ok.stderr).toContain('Verified OK');
        expect(ok.code).toBe(0);
        const wrong = await cosignVerify(dir, 'other.txt');
        expect(wrong.code).not.toBe(0);
      } finally {
        await registry.close();
      }
    });
  }
});

describe('cosign verifies what `cosignkit sign-blob --key keyring:…` signed (the CLI)', () => {
  it('key generate, public-key, sign-blob, key list, key delete', async () => {
    requireBuilds();
    const key = 'keyring:cosignkit-test/k1';
    const generated = await run(['bash', cli, 'key', 'generate', '--key', key], dir);
    expect(generated.stderr + generated.stdout).toContain('keyring:cosignkit-test/k1');
    expect(generated.code).toBe(0);

    const pub = await run(['bash', cli, 'public-key', '--key', key], dir);
    expect(pub.code).toBe(0);
    expect(pub.stdout).toContain('-----BEGIN PUBLIC KEY-----');
    await writeFile(join(dir, 'pub.pem'), pub.stdout);

    const signed = await run(
      ['bash', cli, 'sign-blob', '--engine', 'native', '--key', key, '--output-signature', 'sig', 'artifact.txt'],
      dir,
    );
    expect(signed.code, signed.stderr).toBe(0);
    const ok = await cosignVerify(dir, 'artifact.txt');
    expect(ok.stderr).toContain('Verified OK');
    expect(ok.code).toBe(0);

    const made = await run(['bash', cli, 'key', 'generate', '--backend', 'keyring', '--label', 'k2'], dir);
    expect(made.code, made.stderr).toBe(0);
    const listed = await run(['bash', cli, 'key', 'list', '--backend', 'keyring'], dir);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('keyring:cosignkit/k2');
    const deleted = await run(['bash', cli, 'key', 'delete', '--yes', '--key', 'keyring:cosignkit/k2'], dir);
    expect(deleted.code, deleted.stderr).toBe(0);
    const after = await run(['bash', cli, 'key', 'list', '--backend', 'keyring'], dir);
    expect(after.stdout).not.toContain('keyring:cosignkit/k2');

    const missing = await run(['bash', cli, 'public-key', '--key', 'keyring:cosignkit-test/nope'], dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/KEY_NOT_FOUND|does not exist/);
  });
});
