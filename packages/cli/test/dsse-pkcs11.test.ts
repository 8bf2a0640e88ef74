import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosign, cosignkit, expectOk, requireCosign, tempHome, type Run } from './helpers.js';

// Attestations with a key that never leaves its token: SoftHSM2 in a temp dir, verified by the real cosign.
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = 'Zq-7351-pin'; // not hex: it must not turn up by chance in a digest
const REF = `pkcs11:token=dsse;object=attester?module-path=${MODULE}`;
let home: ReturnType<typeof tempHome>;
let dir: string;
let env: Record<string, string>;

function ok(run: Run): Run {
  expect(expectOk(run).stdout + run.stderr).not.toContain(PIN);
  return run;
}

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
    ['--init-token', '--free', '--label', 'dsse', '--so-pin', '12345678', '--pin', PIN],
    { env: { ...process.env, ...env }, encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`softhsm2-util failed (is softhsm2 installed?): ${init.stderr}`);
  writeFileSync(join(dir, 'artifact.txt'), 'attested on a token\n');
  writeFileSync(
    join(dir, 'prov.json'),
    `{"buildType":"https://example.com/b","builder":{"id":"ci"},"issued_at":"${new Date().toISOString()}"}\n`,
  );
});
afterAll(() => home?.cleanup());

describe('DSSE attestations with a PKCS#11 key (SoftHSM2)', () => {
  it('attest-blob on the token; cosign and verify-dsse verify it; log-dsse records it', async () => {
    const ck = (args: string[]) => cosignkit(args, { cwd: dir, env });
    ok(await ck(['key', 'generate', '--key', REF]));
    ok(await ck(['public-key', '--key', REF, '--outfile', 'token.pub']));
    ok(
      await ck([
        'attest-blob',
        '--key',
        REF,
        '--predicate',
        'prov.json',
        '--type',
        'https://example.com/prov/v1',
        '--statement-version',
        'v1',
        '--output-file',
        'att.json',
        'artifact.txt',
      ]),
    );
    ok(
      await cosign(
        [
          'verify-blob-attestation',
          '--key',
          'token.pub',
          '--insecure-ignore-tlog=true',
          '--type',
          'https://example.com/prov/v1',
          '--signature',
          'att.json',
          'artifact.txt',
        ],
        { cwd: dir },
      ),
    );
    ok(
      await ck([
        'verify-blob-attestation',
        '--key',
        REF,
        '--type',
        'https://example.com/prov/v1',
        '--signature',
        'att.json',
        'artifact.txt',
      ]),
    );
    ok(
      await ck([
        'verify-dsse',
        '--dsse',
        'att.json',
        '--key-file',
        'token.pub',
        '--require-subject',
        'artifact.txt',
        '--require-predicate-type',
        'https://example.com/prov/v1',
        '--max-age',
        '1h',
      ]),
    );
    ok(await ck(['log-dsse', '--dsse', 'att.json', '--log', 'att.jsonl']));
    const found = ok(await ck(['verify-log', '--dsse', 'att.json', '--log', 'att.jsonl']));
    expect(found.stdout).toMatch(/at line 1 \(seq 1,/);
  });
});
