import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SIGN_ROUTE } from '../src/index.js';
import { signBody, startServer, type Running } from './harness.js';

// The release key never leaves its token: SoftHSM2 in a temp dir, the server signs through PKCS#11.
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
// Letters too, so that no port number or timestamp in the log can contain it by chance.
const PIN = 'pin-K7q3x9';
const REF = `pkcs11:token=signer;object=release?module-path=${MODULE}`;
const CLI = join(fileURLToPath(new URL('../../../', import.meta.url)), 'bin/cosignkit');
const run = promisify(execFile);
let dir: string;
let s: Running;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cosignkit-server-hsm-'));
  mkdirSync(join(dir, 'tokens'));
  writeFileSync(
    join(dir, 'softhsm2.conf'),
    `directories.tokendir = ${dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  // SoftHSM reads its config when the module is initialized in this process.
  process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
  process.env.COSIGN_PKCS11_PIN = PIN;
  const init = spawnSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', 'signer', '--so-pin', '12345678', '--pin', PIN],
    { encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`softhsm2-util failed (is softhsm2 installed?): ${init.stderr}`);
  await run(CLI, ['key', 'generate', '--key', REF], { cwd: dir, env: { ...process.env, HOME: dir } });
  await run(CLI, ['public-key', '--key', REF, '--outfile', 'token.pub'], {
    cwd: dir,
    env: { ...process.env, HOME: dir },
  });
  s = await startServer((c) => {
    c.signing.key = REF;
  });
}, 120_000);
afterAll(async () => {
  await s?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('signing with a PKCS#11 key (SoftHSM2)', () => {
  it("signs on the token; the envelope verifies with the token's public key", async () => {
    const res = await (await s.client()).request('POST', SIGN_ROUTE, signBody(s.env));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const body = res.body as any;
    await writeFile(join(dir, 'env.json'), JSON.stringify(body.envelope));
    const verified = await run(CLI, ['verify-dsse', '--dsse', 'env.json', '--key-file', 'token.pub'], {
      cwd: dir,
      env: { ...process.env, HOME: dir },
    });
    expect(verified.stdout).toMatch(/verified/i);
    expect(JSON.stringify(body)).not.toContain(PIN);
    expect(s.logLines.join('\n')).not.toContain(PIN);
  });
});
