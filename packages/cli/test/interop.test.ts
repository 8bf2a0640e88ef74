import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EMPTY_TRUSTED_ROOT,
  FIXTURES,
  PASSWORD,
  cosign,
  cosignkit,
  requireCosign,
  tempHome,
  expectOk,
} from './helpers.js';

// Interop with the real cosign CLI, both ways, and between cosignkit's two engines.
let home: ReturnType<typeof tempHome>;
let dir: string;
const env = { COSIGN_PASSWORD: PASSWORD };

const ok = expectOk;

const cosignVerify = (args: string[]) => cosign(['verify-blob', '--insecure-ignore-tlog=true', ...args], { cwd: dir });

beforeAll(async () => {
  requireCosign();
  home = tempHome();
  dir = home.dir;
  writeFileSync(join(dir, 'artifact.txt'), 'the artifact\n');
  writeFileSync(join(dir, 'other.txt'), 'another file\n');
  writeFileSync(join(dir, 'trusted_root.json'), EMPTY_TRUSTED_ROOT);
  ok(await cosignkit(['generate-key-pair', '--output-key-prefix', 'ck'], { cwd: dir, env }));
  ok(await cosign(['generate-key-pair', '--output-key-prefix', 'cs'], { cwd: dir, env }));
});
afterAll(() => home?.cleanup());

describe('keys', () => {
  it('a key made by cosignkit generate-key-pair works in cosign sign-blob', async () => {
    const signed = ok(
      await cosign(
        [
          'sign-blob',
          '--key',
          'ck.key',
          '--tlog-upload=false',
          '--yes',
          '--output-signature',
          'cs-with-ck.sig',
          'artifact.txt',
        ],
        { cwd: dir, env },
      ),
    );
    expect(signed.code).toBe(0);
    ok(await cosignVerify(['--key', 'ck.pub', '--signature', 'cs-with-ck.sig', 'artifact.txt']));
    ok(
      await cosignkit(['verify-blob', '--key', 'ck.pub', '--signature', 'cs-with-ck.sig', 'artifact.txt'], {
        cwd: dir,
      }),
    );
  });

  it('a key made by cosign generate-key-pair works in cosignkit sign-blob (both engines)', async () => {
    for (const engine of ['native', 'cosign']) {
      const sig = `ck-with-cs-${engine}.sig`;
      const run = ok(
        await cosignkit(
          ['--engine', engine, 'sign-blob', '--key', 'cs.key', '--output-signature', sig, 'artifact.txt'],
          { cwd: dir, env },
        ),
      );
      expect(run.stderr).toContain(`engine: ${engine}`);
      ok(await cosignVerify(['--key', 'cs.pub', '--signature', sig, 'artifact.txt']));
    }
  });

  it("cosign-labeled.key (cosign's own test vector) signs with COSIGN_PASSWORD=hello", async () => {
    copyFileSync(join(FIXTURES, 'cosign-labeled.key'), join(dir, 'labeled.key'));
    copyFileSync(join(FIXTURES, 'cosign-labeled.pub'), join(dir, 'labeled.pub'));
    const pem = ok(
      await cosignkit(['public-key', '--key', 'labeled.key'], { cwd: dir, env: { COSIGN_PASSWORD: 'hello' } }),
    );
    expect(pem.stdout).toBe(readFileSync(join(dir, 'labeled.pub'), 'utf8'));
    for (const engine of ['native', 'cosign']) {
      ok(
        await cosignkit(
          [
            '--engine',
            engine,
            'sign-blob',
            '--key',
            'labeled.key',
            '--output-signature',
            `labeled-${engine}.sig`,
            'artifact.txt',
          ],
          { cwd: dir, env: { COSIGN_PASSWORD: 'hello' } },
        ),
      );
      ok(await cosignVerify(['--key', 'labeled.pub', '--signature', `labeled-${engine}.sig`, 'artifact.txt']));
    }
  });

  it('a key brought in with import-key-pair signs what cosign verifies', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'plain.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    ok(await cosignkit(['import-key-pair', '--key', 'plain.pem', '--output-key-prefix', 'imp'], { cwd: dir, env }));
    ok(
      await cosign(
        [
          'sign-blob',
          '--key',
          'imp.key',
          '--tlog-upload=false',
          '--yes',
          '--output-signature',
          'imp.sig',
          'artifact.txt',
        ],
        { cwd: dir, env },
      ),
    );
    ok(await cosignkit(['verify-blob', '--key', 'imp.pub', '--signature', 'imp.sig', 'artifact.txt'], { cwd: dir }));
  });
});

describe('cosign verifies what cosignkit writes', () => {
  for (const engine of ['native', 'cosign']) {
    it(`signatures and v0.3 bundles (--engine ${engine})`, async () => {
      const sig = `by-ck-${engine}.sig`;
      const bundle = `by-ck-${engine}.sigstore.json`;
      const run = ok(
        await cosignkit(
          [
            '--engine',
            engine,
            'sign-blob',
            '--key',
            'ck.key',
            '--yes',
            '--tlog-upload=false',
            '--new-bundle-format',
            '--output-signature',
            sig,
            '--bundle',
            bundle,
            'artifact.txt',
          ],
          { cwd: dir, env },
        ),
      );
      expect(run.stdout).toBe('');
      expect(JSON.parse(readFileSync(join(dir, bundle), 'utf8'))).toMatchObject({
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      });
      ok(await cosignVerify(['--key', 'ck.pub', '--signature', sig, 'artifact.txt']));
      ok(
        await cosignVerify([
          '--key',
          'ck.pub',
          '--new-bundle-format',
          '--trusted-root',
          'trusted_root.json',
          '--bundle',
          bundle,
          'artifact.txt',
        ]),
      );
      const wrong = await cosignVerify(['--key', 'ck.pub', '--signature', sig, 'other.txt']);
      expect(wrong.code).not.toBe(0);
    });
  }

  it('prints the base64 signature on stdout without --output-signature, as cosign does', async () => {
    const run = ok(await cosignkit(['sign-blob', '--key', 'ck.key', 'artifact.txt'], { cwd: dir, env }));
    const signature = run.stdout.trim();
    expect(Buffer.from(signature, 'base64').length).toBeGreaterThan(60);
    writeFileSync(join(dir, 'stdout.sig'), signature);
    ok(await cosignVerify(['--key', 'ck.pub', '--signature', 'stdout.sig', 'artifact.txt']));
  });

  it('legacy bundles (--new-bundle-format=false)', async () => {
    ok(
      await cosignkit(
        ['sign-blob', '--key', 'ck.key', '--new-bundle-format=false', '--bundle', 'legacy-by-ck.json', 'artifact.txt'],
        { cwd: dir, env },
      ),
    );
    expect(Object.keys(JSON.parse(readFileSync(join(dir, 'legacy-by-ck.json'), 'utf8')))).toEqual(['base64Signature']);
    ok(await cosignVerify(['--key', 'ck.pub', '--bundle', 'legacy-by-ck.json', 'artifact.txt']));
  });
});

describe('cosignkit verifies what cosign writes', () => {
  beforeAll(async () => {
    ok(
      await cosign(
        [
          'sign-blob',
          '--key',
          'cs.key',
          '--tlog-upload=false',
          '--yes',
          '--output-signature',
          'by-cs.sig',
          'artifact.txt',
        ],
        { cwd: dir, env },
      ),
    );
    ok(
      await cosign(
        [
          'sign-blob',
          '--key',
          'cs.key',
          '--tlog-upload=false',
          '--yes',
          '--bundle',
          'by-cs-legacy.json',
          'artifact.txt',
        ],
        { cwd: dir, env },
      ),
    );
    ok(
      await cosign(
        [
          'sign-blob',
          '--key',
          'cs.key',
          '--tlog-upload=false',
          '--yes',
          '--new-bundle-format',
          '--bundle',
          'by-cs.sigstore.json',
          'artifact.txt',
        ],
        { cwd: dir, env },
      ),
    );
  });

  for (const engine of ['native', 'cosign']) {
    it(`signatures, legacy bundles and v0.3 bundles (--engine ${engine})`, async () => {
      for (const material of [
        ['--signature', 'by-cs.sig'],
        ['--bundle', 'by-cs-legacy.json'],
        ['--bundle', 'by-cs.sigstore.json'],
      ]) {
        const run = ok(
          await cosignkit(
            [
              '--engine',
              engine,
              'verify-blob',
              '--key',
              'cs.pub',
              '--insecure-ignore-tlog',
              '--trusted-root',
              'trusted_root.json',
              ...material,
              'artifact.txt',
            ],
            { cwd: dir },
          ),
        );
        expect(run.stdout).toBe('Verified OK\n');
        expect(run.stderr).toContain(`engine: ${engine}`);
        const json = await cosignkit(
          ['--engine', engine, '--json', 'verify-blob', '--key', 'cs.pub', ...material, 'artifact.txt'],
          { cwd: dir },
        );
        expect(JSON.parse(json.stdout)).toMatchObject({ verified: true, engine });
      }
    });
  }
});

describe('the two engines agree', () => {
  for (const [signer, verifier] of [
    ['native', 'cosign'],
    ['cosign', 'native'],
  ] as const) {
    it(`--engine ${signer} signs, --engine ${verifier} verifies`, async () => {
      const sig = `agree-${signer}.sig`;
      const bundle = `agree-${signer}.sigstore.json`;
      ok(
        await cosignkit(
          [
            '--engine',
            signer,
            'sign-blob',
            '--key',
            'ck.key',
            '--output-signature',
            sig,
            '--bundle',
            bundle,
            'artifact.txt',
          ],
          { cwd: dir, env },
        ),
      );
      for (const material of [
        ['--signature', sig],
        ['--bundle', bundle],
      ]) {
        ok(
          await cosignkit(['--engine', verifier, 'verify-blob', '--key', 'ck.pub', ...material, 'artifact.txt'], {
            cwd: dir,
          }),
        );
        const wrong = await cosignkit(
          ['--engine', verifier, 'verify-blob', '--key', 'ck.pub', ...material, 'other.txt'],
          { cwd: dir },
        );
        expect(wrong.code, wrong.stderr).toBe(2);
      }
    });
  }
});
