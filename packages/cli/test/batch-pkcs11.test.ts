import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_TRUSTED_ROOT, cosign, cosignkit, expectOk, requireCosign, tempHome } from './helpers.js';

// Batch signing with a key that never leaves its token: SoftHSM2 in a temp dir, ~100 files, concurrent
// signatures on the token, checked by the real cosign.
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = 'Zq-batch-pin'; // not hex: it must not turn up by chance in a digest
const REF = `pkcs11:token=batch;object=signer?module-path=${MODULE}`;
const COUNT = 100;
let home: ReturnType<typeof tempHome>;
let dir: string;
let env: Record<string, string>;

beforeAll(() => {
  requireCosign();
  home = tempHome();
  dir = home.dir;
  mkdirSync(join(dir, 'tokens'));
  writeFileSync(
    join(dir, 'softhsm2.conf'),
    `directories.tokendir = ${dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  env = { SOFTHSM2_CONF: join(dir, 'softhsm2.conf'), COSIGN_PKCS11_PIN: PIN };
  const init = spawnSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', 'batch', '--so-pin', '12345678', '--pin', PIN],
    { env: { ...process.env, ...env }, encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`softhsm2-util failed (is softhsm2 installed?): ${init.stderr}`);
  writeFileSync(join(dir, 'root.json'), EMPTY_TRUSTED_ROOT);
  mkdirSync(join(dir, 'p'));
  for (let i = 0; i < COUNT; i++) writeFileSync(join(dir, 'p', `f${i}.bin`), randomBytes(1 + i * 37));
});
afterAll(() => home?.cleanup());

describe('batch sign-blob with a PKCS#11 key (SoftHSM2)', () => {
  it('signs 100 files on the token; cosign verifies some; verify-blob names a tampered one (exit 2)', async () => {
    const ck = (args: string[]) => cosignkit(args, { cwd: dir, env });
    expectOk(await ck(['key', 'generate', '--key', REF]));
    expectOk(await ck(['public-key', '--key', REF, '--outfile', 'token.pub']));
    const signed = expectOk(await ck(['sign-blob', '--key', REF, '--jobs', '4', '--json', '-r', 'p']));
    expect(signed.stderr).toMatch(/^sign-blob: signed 100 of 100 in /);
    expect(signed.stdout + signed.stderr).not.toContain(PIN);
    expect(signed.stdout.trim().split('\n')).toHaveLength(COUNT);
    expect(readdirSync(join(dir, 'p')).filter((n) => n.endsWith('.sigstore.json'))).toHaveLength(COUNT);
    for (const i of [0, 42, 99]) {
      const file = join('p', `f${i}.bin`);
      const run = await cosign(
        [
          'verify-blob',
          '--key',
          'token.pub',
          '--bundle',
          `${file}.sigstore.json`,
          '--new-bundle-format',
          '--insecure-ignore-tlog',
          '--trusted-root',
          'root.json',
          file,
        ],
        { cwd: dir },
      );
      expect(run.code, run.stderr).toBe(0);
    }
    appendFileSync(join(dir, 'p', 'f13.bin'), 'x');
    const tampered = await ck(['verify-blob', '--key', 'token.pub', '-r', 'p']);
    expect(tampered.code).toBe(2);
    expect(tampered.stderr.split('\n').filter((l) => l.startsWith('cosignkit: '))).toEqual([
      expect.stringMatching(/^cosignkit: p\/f13\.bin: .*\[VERIFICATION_FAILED\]$/),
    ]);
  }, 180_000);
});
