import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosign, cosignkit, expectFailure, expectOk, PASSWORD, requireCosign, type Run, tempHome } from './helpers.js';

/**
 * Issue 18, seed 001 (KeyManager): key generate --curve and the P-384 default, sign-blob sha256:<hex>,
 * the config's fallbackKey (a real SoftHSM2 token for "available", a missing PKCS#11 module for
 * "unavailable"), and the key's backend and id in results.
 */
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = 'Zq-7351-pin'; // not hex: it must not turn up by chance in a digest
const MISSING = 'pkcs11:token=gone;object=release?module-path=/nonexistent/libgone.so';
let home: ReturnType<typeof tempHome>;
let dir: string;
let env: Record<string, string>;
const run = (args: string[], extra: Record<string, string> = {}): Promise<Run> =>
  cosignkit(args, { cwd: dir, env: { ...env, ...extra } });

function curveOf(pubPath: string): string | undefined {
  return createPublicKey(readFileSync(join(dir, pubPath))).asymmetricKeyDetails?.namedCurve;
}

function config(value: Record<string, unknown>): void {
  mkdirSync(join(dir, '.config', 'cosignkit'), { recursive: true });
  writeFileSync(join(dir, '.config', 'cosignkit', 'config.json'), JSON.stringify(value));
}

beforeAll(async () => {
  requireCosign();
  home = tempHome();
  dir = home.dir;
  mkdirSync(join(dir, 'tokens'));
  writeFileSync(
    join(dir, 'softhsm2.conf'),
    `directories.tokendir = ${dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  env = { SOFTHSM2_CONF: join(dir, 'softhsm2.conf'), COSIGN_PASSWORD: PASSWORD, COSIGN_PKCS11_PIN: PIN };
  const init = spawnSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', 'seed', '--so-pin', '12345678', '--pin', PIN],
    { env: { ...process.env, ...env }, encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`softhsm2-util failed: ${init.stderr}`);
  writeFileSync(join(dir, 'artifact.txt'), 'an artifact\n');
  expectOk(await run(['generate-key-pair']));
});
afterAll(() => home?.cleanup());

describe('key generate --curve', () => {
  it('defaults to P-384 as the design says; --curve P256|P384 is --algorithm; cosign generate-key-pair stays P-256', async () => {
    expect(expectOk(await run(['key', 'generate', '--key', 'default.key'])).stdout).toContain('ecdsa-p384-sha384');
    expect(curveOf('default.pub')).toBe('secp384r1');
    expect(expectOk(await run(['key', 'generate', '--key', 'p256.key', '--curve', 'P256'])).stdout).toContain(
      'ecdsa-p256-sha256',
    );
    expect(curveOf('p256.pub')).toBe('prime256v1');
    const p384 = JSON.parse(
      expectOk(await run(['--json', 'key', 'generate', '--key', 'p384.key', '--curve', 'P384'])).stdout,
    );
    expect(p384.algorithm).toBe('ecdsa-p384-sha384');
    // On a token too: the default reaches the backend.
    const token = expectOk(
      await run(['--json', 'key', 'generate', '--key', `pkcs11:token=seed;object=p384?module-path=${MODULE}`]),
    );
    expect(JSON.parse(token.stdout).algorithm).toBe('ecdsa-p384-sha384');
    // cosign's command keeps cosign's curve.
    expect(curveOf('cosign.pub')).toBe('prime256v1');
    // A P-384 key made here still serves the stock cosign.
    expectOk(
      await run([
        'sign-blob',
        '--engine',
        'native',
        '--key',
        'default.key',
        '--output-signature',
        'd.sig',
        'artifact.txt',
      ]),
    );
    const verified = await cosign(
      ['verify-blob', '--key', 'default.pub', '--signature', 'd.sig', '--insecure-ignore-tlog', 'artifact.txt'],
      { cwd: dir, env },
    );
    expect(verified.code, verified.stderr).toBe(0);
  });

  it('refuses an unknown curve and a curve that disagrees with --algorithm', async () => {
    expectFailure(await run(['key', 'generate', '--key', 'x.key', '--curve', 'P521']), 1, 'USAGE');
    expectFailure(
      await run(['key', 'generate', '--key', 'x.key', '--curve', 'P256', '--algorithm', 'ecdsa-p384-sha384']),
      1,
      'USAGE',
    );
  });
});

describe('sign-blob sha256:<hex>', () => {
  const hex = createHash('sha256').update('an artifact\n').digest('hex');

  it('signs a digest computed elsewhere; verify-blob and the real cosign accept it against the file', async () => {
    const signed = expectOk(
      await run(['--json', 'sign-blob', '--key', 'cosign.key', '--output-signature', 'digest.sig', `sha256:${hex}`]),
    );
    const data = JSON.parse(signed.stdout);
    expect(data.digest).toEqual({ algorithm: 'sha256', hex });
    expect(data.engine).toBe('native');
    expectOk(await run(['verify-blob', '--key', 'cosign.pub', '--signature', 'digest.sig', 'artifact.txt']));
    const real = await cosign(
      ['verify-blob', '--key', 'cosign.pub', '--signature', 'digest.sig', '--insecure-ignore-tlog', 'artifact.txt'],
      { cwd: dir, env },
    );
    expect(real.code, real.stderr).toBe(0);
  });

  it('a signature over another digest fails against the file; Ed25519 and --engine cosign are refused', async () => {
    const other = createHash('sha256').update('something else\n').digest('hex');
    expectOk(await run(['sign-blob', '--key', 'cosign.key', '--output-signature', 'other.sig', `sha256:${other}`]));
    expectFailure(
      await run(['verify-blob', '--key', 'cosign.pub', '--signature', 'other.sig', 'artifact.txt']),
      2,
      'VERIFICATION_FAILED',
    );
    expectOk(await run(['key', 'generate', '--key', 'ed.key', '--algorithm', 'ed25519']));
    expectFailure(await run(['sign-blob', '--key', 'ed.key', `sha256:${hex}`]), 1, 'NOT_SUPPORTED');
    expectFailure(
      await run(['sign-blob', '--engine', 'cosign', '--key', 'cosign.key', `sha256:${hex}`]),
      1,
      'NOT_SUPPORTED',
    );
  });
});

describe('fallbackKey and the key provenance in results', () => {
  it('names the backend type and key id in --json and on stderr', async () => {
    const tokenKey = `pkcs11:token=seed;object=p384?module-path=${MODULE}`;
    const r = expectOk(await run(['--json', 'sign-blob', '--engine', 'native', '--key', tokenKey, 'artifact.txt']));
    const data = JSON.parse(r.stdout);
    expect(data.keyBackend).toBe('pkcs11');
    expect(data.keyId).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stderr).toContain(`key: pkcs11 backend, id sha256:${data.keyId}`);
    const att = expectOk(
      await run([
        '--json',
        'attest-blob',
        '--engine',
        'native',
        '--key',
        'cosign.key',
        '--predicate',
        'artifact.txt',
        'artifact.txt',
      ]),
    );
    expect(JSON.parse(att.stdout)).toMatchObject({
      keyBackend: 'file',
      keyId: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('uses the fallback key only when the default key backend is unavailable, with a warning', async () => {
    config({ defaultKey: MISSING, fallbackKey: 'cosign.key' });
    const r = await run(['--json', 'sign-blob', '--engine', 'native', '--output-signature', 'fb.sig', 'artifact.txt']);
    expectOk(r);
    expect(r.stderr).toMatch(
      /warning: the default key pkcs11:token=gone;object=release.* is unavailable \(BACKEND_UNAVAILABLE\): signing with the fallback key cosign\.key \(file backend\), whose protection is lower than the pkcs11 backend's/,
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ key: 'cosign.key', keyBackend: 'file' });
    expectOk(await run(['verify-blob', '--key', 'cosign.pub', '--signature', 'fb.sig', 'artifact.txt']));
  });

  it('never falls back silently or for another reason: no fallback configured, an explicit --key, a missing key on a reachable token', async () => {
    config({ defaultKey: MISSING });
    expectFailure(await run(['sign-blob', '--engine', 'native', 'artifact.txt']), 1, 'BACKEND_UNAVAILABLE');
    config({ defaultKey: MISSING, fallbackKey: 'cosign.key' });
    expectFailure(
      await run(['sign-blob', '--engine', 'native', '--key', MISSING, 'artifact.txt']),
      1,
      'BACKEND_UNAVAILABLE',
    );
    config({ defaultKey: `pkcs11:token=seed;object=absent?module-path=${MODULE}`, fallbackKey: 'cosign.key' });
    const missingKey = await run(['sign-blob', '--engine', 'native', 'artifact.txt']);
    expect(missingKey.code).toBe(1);
    expect(missingKey.stderr).not.toContain('fallback');
    expectFailure(missingKey, 1);
    // The default key's backend reachable: the default key is used, no warning.
    config({ defaultKey: `pkcs11:token=seed;object=p384?module-path=${MODULE}`, fallbackKey: 'cosign.key' });
    const fine = expectOk(await run(['--json', 'sign-blob', '--engine', 'native', 'artifact.txt']));
    expect(fine.stderr).not.toContain('warning');
    expect(JSON.parse(fine.stdout).keyBackend).toBe('pkcs11');
    config({});
  });
});
