import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosign, cosignkit, expectFailure, expectOk, PASSWORD, requireCosign, type Run } from './helpers.js';
import { ociWorkspace, RegistryClient, startRegistry, type RunningRegistry } from './oci-setup.js';

/**
 * Issue 18, seed 000: sign-blob --push and attest-blob --push (a file to a registry and signed there in one
 * command, as cosign upload blob + cosign sign leave it), and verify -a annotation filters. Against a real
 * docker-registry and the real cosign.
 */
let registry: RunningRegistry;
let ws: { dir: string; cleanup: () => void };
const env = { COSIGN_PASSWORD: PASSWORD };
const run = (args: string[]): Promise<Run> => cosignkit(args, { cwd: ws.dir, env });
const runCosign = (args: string[]): Promise<Run> => cosign(args, { cwd: ws.dir, env });
const client = new RegistryClient({ credentials: async () => undefined });

beforeAll(async () => {
  requireCosign();
  [registry, ws] = await Promise.all([startRegistry(), ociWorkspace()]);
  writeFileSync(join(ws.dir, 'release.txt'), 'release 1.2.3\n');
  // A second key pair: what a wrong key must not verify.
  const other = await cosign(['generate-key-pair', '--output-key-prefix', 'other'], { cwd: ws.dir, env });
  if (other.code !== 0) throw new Error(other.stderr);
});
afterAll(async () => {
  await registry?.stop();
  ws?.cleanup();
});

describe('sign-blob --push', () => {
  for (const format of ['legacy', 'bundle'] as const) {
    it(`pushes the file as cosign upload blob does and signs it (${format}); the real cosign verifies it`, async () => {
      const pushed = expectOk(
        await run([
          'sign-blob',
          '--engine',
          'native',
          '--key',
          'cosign.key',
          '--format',
          format,
          '--push',
          `${registry.host}/files/release:${format}`,
          'release.txt',
        ]),
      );
      const image = pushed.stdout.trim();
      expect(image).toMatch(new RegExp(`^${registry.host}/files/release@sha256:[0-9a-f]{64}$`));
      expect(pushed.stderr).toContain('key: file backend');
      // The artifact: one layer holding the file's bytes, an OCI image config, tagged as asked.
      const repo = { registry: registry.host, repository: 'files/release' };
      const manifest = JSON.parse((await client.getManifest(repo, format)).bytes.toString()) as {
        config: { mediaType: string };
        layers: { mediaType: string; digest: string }[];
      };
      expect(manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
      expect(manifest.layers).toHaveLength(1);
      expect(manifest.layers[0]!.mediaType).toBe('text/plain; charset=utf-8');
      const fileDigest = `sha256:${createHash('sha256').update('release 1.2.3\n').digest('hex')}`;
      expect(manifest.layers[0]!.digest).toBe(fileDigest);
      expect((await client.getBlob(repo, fileDigest)).toString()).toBe('release 1.2.3\n');
      // The stock cosign verifies it by the printed digest, and refuses another key.
      expectOkCosign(await runCosign(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', image]));
      const wrong = await runCosign(['verify', '--key', 'other.pub', '--insecure-ignore-tlog', image]);
      expect(wrong.code).not.toBe(0);
    });
  }

  it('pushes with the cosign engine too (cosign sign does the signing)', async () => {
    const pushed = expectOk(
      await run([
        'sign-blob',
        '--engine',
        'cosign',
        '--key',
        'cosign.key',
        '--push',
        `${registry.host}/files/by-cosign:v1`,
        'release.txt',
      ]),
    );
    expect(pushed.stderr).toContain('engine: cosign');
    expectOkCosign(await runCosign(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', pushed.stdout.trim()]));
  });

  it('refuses local outputs with --push, a missing file, and keyless push, each in one line', async () => {
    expectFailure(
      await run([
        'sign-blob',
        '--key',
        'cosign.key',
        '--push',
        `${registry.host}/files/x`,
        '--bundle',
        'b.json',
        'release.txt',
      ]),
      1,
      'USAGE',
    );
    const missing = await run(['sign-blob', '--key', 'cosign.key', '--push', `${registry.host}/files/x`, 'nope.txt']);
    expect(missing.code).not.toBe(0);
    expectFailure(missing, missing.code);
    writeFileSync(join(ws.dir, 'token.txt'), 'not.a.token');
    const keyless = await run([
      'sign-blob',
      '--identity-token',
      'token.txt',
      '--push',
      `${registry.host}/files/x`,
      'release.txt',
    ]);
    expectFailure(keyless, 1, 'USAGE');
    expect(keyless.stderr).toContain('--push signs with a key');
    const tags = await client.listTags({ registry: registry.host, repository: 'files/x' }).catch(() => []);
    expect(tags).toEqual([]);
  });
});

describe('S-6: an HSM key (SoftHSM2 over PKCS#11) signs a pushed file', () => {
  const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
  const REF = `pkcs11:token=push;object=release?module-path=${MODULE}`;

  it('sign-blob --push with a token key; the real cosign verifies with the exported public key', async () => {
    mkdirSync(join(ws.dir, 'tokens'));
    const conf = join(ws.dir, 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${ws.dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n`);
    const hsm = { ...env, SOFTHSM2_CONF: conf, COSIGN_PKCS11_PIN: '7351' };
    const init = spawnSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', 'push', '--so-pin', '12345678', '--pin', '7351'],
      { env: { ...process.env, ...hsm }, encoding: 'utf8' },
    );
    expect(init.status, init.stderr).toBe(0);
    const ck = (args: string[]) => cosignkit(args, { cwd: ws.dir, env: hsm });
    expectOk(await ck(['key', 'generate', '--key', REF]));
    expectOk(await ck(['public-key', '--key', REF, '--outfile', 'hsm.pub']));
    writeFileSync(join(ws.dir, 'hsm-release.txt'), 'signed on a token\n');
    const pushed = expectOk(
      await ck([
        '--json',
        'sign-blob',
        '--engine',
        'native',
        '--key',
        REF,
        '--format',
        'legacy',
        '--push',
        `${registry.host}/files/hsm:v1`,
        'hsm-release.txt',
      ]),
    );
    const data = JSON.parse(pushed.stdout) as { image: string; keyBackend: string; keyId: string };
    expect(data.keyBackend).toBe('pkcs11');
    expect(data.keyId).toMatch(/^[0-9a-f]{64}$/);
    expect(pushed.stderr).toContain(`key: pkcs11 backend, id sha256:${data.keyId}`);
    expectOkCosign(await runCosign(['verify', '--key', 'hsm.pub', '--insecure-ignore-tlog', data.image]));
    expect((await runCosign(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', data.image])).code).not.toBe(0);
  });
});

describe('attest-blob --push', () => {
  it('pushes and attests the file; cosign verify-attestation accepts it, and refuses another type', async () => {
    const pushed = expectOk(
      await run([
        'attest-blob',
        '--engine',
        'native',
        '--key',
        'cosign.key',
        '--predicate',
        'predicate.json',
        '--type',
        'slsaprovenance',
        '--format',
        'legacy',
        '--push',
        `${registry.host}/files/attested:v1`,
        'release.txt',
      ]),
    );
    const image = pushed.stdout.trim();
    expect(image).toMatch(/@sha256:[0-9a-f]{64}$/);
    expectOkCosign(
      await runCosign([
        'verify-attestation',
        '--key',
        'cosign.pub',
        '--insecure-ignore-tlog',
        '--type',
        'slsaprovenance',
        image,
      ]),
    );
    const otherType = await runCosign([
      'verify-attestation',
      '--key',
      'cosign.pub',
      '--insecure-ignore-tlog',
      '--type',
      'spdxjson',
      image,
    ]);
    expect(otherType.code).not.toBe(0);
    const mine = expectOk(await run(['verify-attestation', '--key', 'cosign.pub', '--type', 'slsaprovenance', image]));
    expect(mine.stdout).toContain('slsa.dev/provenance');
  });
});

describe('verify -a key=value', () => {
  for (const format of ['legacy', 'bundle'] as const)
    it(`counts only signatures carrying the annotations and lists them; a mismatch exits 2 (${format})`, async () => {
      // A file of its own: the same bytes would be the same artifact digest, with the other test's signatures.
      writeFileSync(join(ws.dir, `annotated-${format}.txt`), `annotated ${format}\n`);
      const pushed = expectOk(
        await run([
          'sign-blob',
          '--engine',
          'native',
          '--key',
          'cosign.key',
          '--format',
          format,
          '-a',
          'team=blue',
          '-a',
          'stage=prod',
          '--push',
          `${registry.host}/files/annotated:${format}`,
          `annotated-${format}.txt`,
        ]),
      );
      const image = pushed.stdout.trim();
      const good = expectOk(await run(['--json', 'verify', '--key', 'cosign.pub', '-a', 'team=blue', image]));
      const data = JSON.parse(good.stdout) as { verified: boolean; annotations: Record<string, string>[] };
      expect(data.verified).toBe(true);
      expect(data.annotations, JSON.stringify(data)).toEqual([{ team: 'blue', stage: 'prod' }]);
      const text = expectOk(await run(['verify', '--key', 'cosign.pub', '-a', 'team=blue', '-a', 'stage=prod', image]));
      expect(text.stderr).toMatch(/signature 1 annotations: (team=blue, stage=prod|stage=prod, team=blue)\n/);
      // The real cosign agrees on the same filter (it reads annotations from the .sig layout's payload).
      if (format === 'legacy') {
        expectOkCosign(
          await runCosign(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', '-a', 'team=blue', image]),
        );
        const cosignWrong = await runCosign([
          'verify',
          '--key',
          'cosign.pub',
          '--insecure-ignore-tlog',
          '-a',
          'team=red',
          image,
        ]);
        expect(cosignWrong.code).not.toBe(0);
      }
      const wrong = await run(['verify', '--key', 'cosign.pub', '-a', 'team=red', image]);
      expectFailure(wrong, 2, 'VERIFICATION_FAILED');
      expect(wrong.stderr).toContain('team=red');
      const missingKey = await run(['verify', '--key', 'cosign.pub', '-a', 'owner=me', image]);
      expectFailure(missingKey, 2, 'VERIFICATION_FAILED');
      expectFailure(await run(['verify', '--key', 'cosign.pub', '-a', 'novalue', image]), 1, 'USAGE');
    });
});

function expectOkCosign(r: Run): void {
  expect(r.code, `cosign: ${r.stderr}`).toBe(0);
}
