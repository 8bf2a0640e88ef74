// End to end through the real CLI (bin/cosignkit) and the real cosign: generate on the token, print the public
// key, sign a blob natively and through cosign + the KMS plugin, and have cosign verify signature and bundle.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PIN, startSoftHsm, type SoftHsm } from './softhsm.js';

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
const CLI = join(ROOT, 'bin/cosignkit');
// The key-pkcs11 package does not depend on the CLI: without its build this file is skipped, and says so.
const COSIGN =
  process.env.COSIGN_PATH ??
  (existsSync(join(ROOT, '.tools/cosign/usr/bin/cosign')) ? join(ROOT, '.tools/cosign/usr/bin/cosign') : 'cosign');
// FORMATS.md §3: an empty trusted root is enough for key-based bundles offline.
const EMPTY_TRUSTED_ROOT =
  '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}';
const TOKEN = 'cli';

let hsm: SoftHsm;
let env: NodeJS.ProcessEnv;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}
async function sh(file: string, args: string[], cwd = hsm.dir): Promise<Ran> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env, maxBuffer: 1 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
const everything: Ran[] = [];
async function cosignkit(...args: string[]): Promise<Ran> {
  expect(args.join(' ')).not.toContain(TEST_PIN); // nothing in cosignkit's own argv
  const ran = await sh(CLI, args);
  everything.push(ran);
  return ran;
}

beforeAll(async () => {
  hsm = await startSoftHsm([TOKEN]);
  const { COSIGN_PKCS11_PIN: _pin, COSIGN_PKCS11_MODULE_PATH: _module, ...rest } = process.env;
  // A user config of the machine's must not leak in: XDG_CONFIG_HOME inside the temp dir.
  // COSIGNKIT_DEBUG=1: the backend's log lines reach stderr, where the PIN check below looks too.
  // PATH: the repo's bin/ holds the sigstore-kms-cosignkit plugin stock cosign runs; cosign itself beside it.
  const path = [join(ROOT, 'bin'), ...(COSIGN.includes('/') ? [dirname(COSIGN)] : []), rest.PATH ?? ''].join(':');
  env = { ...rest, PATH: path, SOFTHSM2_CONF: hsm.conf, XDG_CONFIG_HOME: join(hsm.dir, 'xdg'), COSIGNKIT_DEBUG: '1' };
  await writeFile(join(hsm.dir, 'artifact.txt'), 'an artifact signed on a PKCS#11 token\n');
  await writeFile(join(hsm.dir, 'trusted_root.json'), EMPTY_TRUSTED_ROOT);
});
afterAll(async () => {
  await hsm?.stop();
});

// scripts/test builds every package first; a missing CLI build is a failure here, never a skip.
if (!existsSync(join(ROOT, 'packages/cli/dist/bin/cosignkit.cjs'))) {
  throw new Error('packages/cli/dist is missing: run scripts/setup (it builds every package)');
}

describe('cosignkit CLI with a pkcs11 key', () => {
  const key = () => hsm.ref(TOKEN, 'release');

  it('key generate makes the key on the token and prints its reference without a PIN', async () => {
    const ran = await cosignkit('key', 'generate', '--key', key());
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('object=release');
    expect(ran.stdout).toContain('ecdsa-p384-sha384'); // the design's default curve (seed 001)
  });

  it('cosign verifies what sign-blob --engine native signed, as a signature and as a bundle', async () => {
    const pub = await cosignkit('public-key', '--key', key());
    expect(pub.code, pub.stderr).toBe(0);
    expect(pub.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    await writeFile(join(hsm.dir, 'release.pub'), pub.stdout);

    const signed = await cosignkit(
      'sign-blob',
      '--engine',
      'native',
      '--key',
      key(),
      '--output-signature',
      'artifact.sig',
      '--bundle',
      'artifact.sigstore.json',
      'artifact.txt',
    );
    expect(signed.code, signed.stderr).toBe(0);

    const bySignature = await sh(COSIGN, [
      'verify-blob',
      '--key',
      'release.pub',
      '--signature',
      'artifact.sig',
      '--insecure-ignore-tlog=true',
      'artifact.txt',
    ]);
    expect(bySignature.code, bySignature.stderr).toBe(0);
    expect(bySignature.stderr).toContain('Verified OK');

    const byBundle = await sh(COSIGN, [
      'verify-blob',
      '--new-bundle-format',
      '--bundle',
      'artifact.sigstore.json',
      '--trusted-root',
      'trusted_root.json',
      '--key',
      'release.pub',
      '--insecure-ignore-tlog=true',
      'artifact.txt',
    ]);
    expect(byBundle.code, byBundle.stderr).toBe(0);
    expect(byBundle.stderr).toContain('Verified OK');

    // And it does fail on another file: the check above can fail.
    await writeFile(join(hsm.dir, 'other.txt'), 'another artifact\n');
    const wrong = await sh(COSIGN, [
      'verify-blob',
      '--key',
      'release.pub',
      '--signature',
      'artifact.sig',
      '--insecure-ignore-tlog=true',
      'other.txt',
    ]);
    expect(wrong.code).not.toBe(0);
  });

  it('sign-blob --engine cosign reaches the token through the sigstore-kms-cosignkit plugin; cosign verifies', async () => {
    const signed = await cosignkit(
      'sign-blob',
      '--engine',
      'cosign',
      '--key',
      key(),
      '--output-signature',
      'via-cosign.sig',
      'artifact.txt',
    );
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stderr).toContain('engine: cosign');
    const verified = await sh(COSIGN, [
      'verify-blob',
      '--key',
      'release.pub',
      '--signature',
      'via-cosign.sig',
      '--insecure-ignore-tlog=true',
      'artifact.txt',
    ]);
    expect(verified.code, verified.stderr).toBe(0);
  });

  it('cosignkit verify-blob accepts the signature with the pkcs11 key', async () => {
    const ran = await cosignkit('verify-blob', '--key', key(), '--signature', 'artifact.sig', 'artifact.txt');
    expect(ran.code, ran.stderr).toBe(0);
  });

  it('key generate --backend pkcs11 --label and key list --backend pkcs11 use the config file', async () => {
    await writeFile(
      join(hsm.dir, 'cosignkit.config.json'),
      JSON.stringify({
        backends: { pkcs11: { modulePath: hsm.modulePath, pinSource: `file:${hsm.pinFile}`, token: TOKEN } },
      }),
    );
    const made = await cosignkit(
      'key',
      'generate',
      '--backend',
      'pkcs11',
      '--label',
      'second',
      '--algorithm',
      'ecdsa-p384-sha384',
    );
    expect(made.code, made.stderr).toBe(0);
    const listed = await cosignkit('key', 'list', '--backend', 'pkcs11', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const ids = (JSON.parse(listed.stdout) as { keys: { id: string; algorithm: string }[] }).keys.map(
      (k) => `${k.id} ${k.algorithm}`,
    );
    expect(ids).toEqual(['release ecdsa-p384-sha384', 'second ecdsa-p384-sha384']);
  });

  it('key delete removes the key from the token', async () => {
    const deleted = await cosignkit('key', 'delete', '--key', hsm.ref(TOKEN, 'second'), '--yes');
    expect(deleted.code, deleted.stderr).toBe(0);
    const gone = await cosignkit('public-key', '--key', hsm.ref(TOKEN, 'second'));
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('KEY_NOT_FOUND');
  });

  it('a wrong PIN fails with PIN_INCORRECT and no PIN in the output', async () => {
    const wrongPin = 'Cli-Wrong-Pin-Distinctive-8812';
    await writeFile(join(hsm.dir, 'wrong.pin'), wrongPin, { mode: 0o600 });
    const ref = `pkcs11:token=${TOKEN};object=release?module-path=${hsm.modulePath}&pin-source=file:${join(hsm.dir, 'wrong.pin')}`;
    const ran = await cosignkit('public-key', '--key', ref);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('PIN_INCORRECT');
    expect(`${ran.stdout}${ran.stderr}`).not.toContain(wrongPin);
  });

  it('no output of any run shows the PIN', async () => {
    expect(everything.length).toBeGreaterThan(5);
    for (const ran of everything) expect(`${ran.stdout}\n${ran.stderr}`).not.toContain(TEST_PIN);
    expect(everything.some((ran) => ran.stderr.includes('pkcs11: token connected'))).toBe(true); // logs were on
    expect(await readFile(join(hsm.dir, 'artifact.sig'), 'utf8')).not.toContain(TEST_PIN);
  });
});
