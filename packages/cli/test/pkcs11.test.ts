import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosign, cosignkit, expectFailure, expectNoStackNoSecret, requireCosign, tempHome } from './helpers.js';

// The CLI through the registry to a real token: SoftHSM2 in a temp dir, the key never leaves it.
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = 'Zq-7351-pin'; // not hex: it must not turn up by chance in a digest
let home: ReturnType<typeof tempHome>;
let dir: string;
let env: Record<string, string>;
const REF = `pkcs11:token=cli;object=release?module-path=${MODULE}`;

beforeAll(() => {
  requireCosign();
  home = tempHome();
  dir = home.dir;
  mkdirSync(join(dir, 'tokens'));
  writeFileSync(
    join(dir, 'softhsm2.conf'),
    `directories.tokendir = ${dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  env = { SOFTHSM2_CONF: join(dir, 'softhsm2.conf') };
  const init = spawnSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', 'cli', '--so-pin', '12345678', '--pin', PIN],
    { env: { ...process.env, ...env }, encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`softhsm2-util failed (is softhsm2 installed?): ${init.stderr}`);
  writeFileSync(join(dir, 'artifact.txt'), 'signed on a token\n');
});
afterAll(() => home?.cleanup());

describe('PKCS#11 keys from the command line (SoftHSM2)', () => {
  it('key generate, sign-blob and public-key on a token; cosign verifies', async () => {
    const withPin = { ...env, COSIGN_PKCS11_PIN: PIN };
    const made = await cosignkit(['key', 'generate', '--key', REF], { cwd: dir, env: withPin });
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain('pkcs11:token=cli;object=release');
    const signed = await cosignkit(
      ['--engine', 'native', 'sign-blob', '--key', REF, '--output-signature', 'token.sig', 'artifact.txt'],
      { cwd: dir, env: withPin },
    );
    expect(signed.code, signed.stderr).toBe(0);
    const pub = await cosignkit(['public-key', '--key', REF, '--outfile', 'token.pub'], { cwd: dir, env: withPin });
    expect(pub.code, pub.stderr).toBe(0);
    const verified = await cosign(
      ['verify-blob', '--key', 'token.pub', '--signature', 'token.sig', '--insecure-ignore-tlog=true', 'artifact.txt'],
      { cwd: dir },
    );
    expect(verified.code, verified.stderr).toBe(0);
    for (const run of [made, signed, pub]) expectNoStackNoSecret(run);
    expect(made.stdout + made.stderr + signed.stdout + signed.stderr).not.toContain(PIN);
  });

  it("key list shows the token's keys when the config names the module", async () => {
    writeFileSync(join(dir, 'cosignkit.config.json'), JSON.stringify({ backends: { pkcs11: { modulePath: MODULE } } }));
    const run = await cosignkit(['--json', 'key', 'list'], { cwd: dir, env: { ...env, COSIGN_PKCS11_PIN: PIN } });
    expect(run.code, run.stderr).toBe(0);
    const keys = (JSON.parse(run.stdout) as { keys: { backend: string; id: string }[] }).keys;
    expect(keys).toEqual(expect.arrayContaining([expect.objectContaining({ backend: 'pkcs11' })]));
  });

  it('a wrong PIN and a missing PIN: one line each, exit 1, the PIN never shown', async () => {
    const wrong = await cosignkit(['--engine', 'native', 'sign-blob', '--key', REF, 'artifact.txt'], {
      cwd: dir,
      env: { ...env, COSIGN_PKCS11_PIN: '0000' },
    });
    expectFailure(wrong, 1, 'PIN_INCORRECT');
    const none = await cosignkit(['--engine', 'native', 'sign-blob', '--key', REF, 'artifact.txt'], { cwd: dir, env });
    expectFailure(none, 1, 'PASSWORD_REQUIRED');
    expect(wrong.stderr + none.stderr).not.toContain(PIN);
  });
});
