import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendRegistry, publicKeyPem, type KeyAlgorithm } from '@cosignkit/core';
import { createAttester, createSigner, createVerifier, type ImageVerificationResult } from '../src/index.js';
import { RegistryClient } from '@cosignkit/oci';
import { startRegistry, type RunningRegistry } from '../../oci/test/harness/docker-registry.js';
import { seedImage } from '../../oci/test/harness/seed-image.js';
import { requireCosign, tempDir } from '../../core/test/helpers/cosign-cli.js';
import { fakeMemoryBackend, memoryStore } from '@cosignkit/key-testkit';

const { dir, cleanup } = tempDir();
const keys = memoryStore('t');
let registry: RunningRegistry;
let cosignPath: string;
const client = new RegistryClient({ credentials: async () => undefined });
const env = { ...process.env, COSIGN_REPOSITORY: undefined } as NodeJS.ProcessEnv;
const keyRegistry = new BackendRegistry({ env }).register(fakeMemoryBackend());
const options = { engine: 'native' as const, keys: keyRegistry, env, client };
/** What the native verifier found in each layout. */
const found = (r: unknown) => (r as ImageVerificationResult).found;

beforeAll(async () => {
  cosignPath = await requireCosign();
  registry = await startRegistry();
  for (const a of ['ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'ed25519'] as KeyAlgorithm[]) {
    keys.add(a, a);
    writeFileSync(join(dir, `${a}.pub`), publicKeyPem(keys.publicKey(a)));
  }
});
afterAll(async () => {
  await registry?.stop();
  cleanup();
});

describe.each(['ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'ed25519'])(
  'OCI roles with a %s key (library API)',
  (algorithm) => {
    const pub = (): string => join(dir, `${algorithm}.pub`);

    it('signArtifact in both formats, verifyRegistry finds both; the real cosign verifies the legacy one', async () => {
      const repository = `roles/${algorithm}`;
      const digest = await seedImage(client, registry.host, repository, 'v1');
      const image = `${registry.host}/${repository}:v1`;
      const signer = createSigner(options);
      const legacy = await signer.signArtifact(image, { key: `memory:t/${algorithm}`, format: 'legacy' });
      const bundle = await signer.signArtifact(image, { key: `memory:t/${algorithm}` });
      const expected = { algorithm: 'sha256', hex: digest.slice('sha256:'.length) };
      expect([legacy.digest, bundle.digest, bundle.format]).toEqual([expected, expected, 'bundle']);
      const result = await createVerifier(options).verifyRegistry(image, { key: pub() });
      expect(result.verified).toBe(true);
      expect(found(result).map((f) => [f.format, f.verified])).toEqual([
        ['legacy', true],
        ['bundle', true],
      ]);
      expect(result.artifact.digest.hex).toBe(digest.slice('sha256:'.length));
      if (algorithm !== 'ed25519') {
        // cosign 2.5 verifies key signatures over SHA-256 whatever the curve, as it signs them.
        execFileSync(cosignPath, ['verify', '--key', pub(), '--insecure-ignore-tlog', image], { stdio: 'pipe' });
      }
      const other = join(dir, 'other.pub');
      writeFileSync(other, publicKeyPem(memoryStore().add('other')));
      const wrong = await createVerifier(options).verifyRegistry(image, { key: other });
      expect(wrong.verified).toBe(false);
      expect(wrong.signatures.map((s) => s.verified)).toEqual([false, false]);
      expect(wrong.failures.map((f) => f.code)).toEqual(['VERIFICATION_FAILED', 'VERIFICATION_FAILED']);
    });

    it('attestBlobAndPush pushes a file as an artifact, attests it, and verifyAttestation filters by type', async () => {
      const file = join(dir, `${algorithm}.txt`);
      writeFileSync(file, 'a release file\n');
      const predicate = join(dir, `${algorithm}.predicate.json`);
      writeFileSync(predicate, '{"ok":true}');
      const attester = createAttester(options);
      const done = await attester.attestBlobAndPush(file, `${registry.host}/files/${algorithm}:v1`, {
        key: `memory:t/${algorithm}`,
        type: 'https://example.com/a',
        predicate,
        format: 'legacy',
      });
      await attester.attestArtifact(done.image, {
        key: `memory:t/${algorithm}`,
        type: 'https://example.com/b',
        predicate,
      });
      const verifier = createVerifier(options);
      const a = await verifier.verifyAttestation(done.image, { key: pub(), predicateType: 'https://example.com/a' });
      expect(found(a).map((f) => [f.format, f.verified])).toEqual([['legacy', true]]);
      const b = await verifier.verifyAttestation(done.image, { key: pub(), predicateType: 'https://example.com/b' });
      expect(found(b).map((f) => [f.format, f.verified])).toEqual([['bundle', true]]);
      const none = await verifier.verifyAttestation(done.image, { key: pub(), predicateType: 'https://example.com/c' });
      expect(none.verified).toBe(false);
      // The pushed artifact holds the file's bytes.
      const signed = await createSigner(options).signBlobAndPush(file, `${registry.host}/files/${algorithm}:v2`, {
        key: `memory:t/${algorithm}`,
      });
      expect(signed.digest).toEqual({ algorithm: 'sha256', hex: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect((await createVerifier(options).verifyRegistry(signed.image, { key: pub() })).verified).toBe(true);
    });
  },
);

describe('COSIGN_REPOSITORY', () => {
  it('stores and finds signatures in another repository, as cosign does', async () => {
    const digest = await seedImage(client, registry.host, 'home/app', 'v1');
    const elsewhere = { ...env, COSIGN_REPOSITORY: `${registry.host}/signatures/store` };
    const o = { ...options, env: elsewhere };
    await createSigner(o).signArtifact(`${registry.host}/home/app:v1`, {
      key: 'memory:t/ecdsa-p256-sha256',
      format: 'legacy',
    });
    expect(await client.listTags({ registry: registry.host, repository: 'signatures/store' })).toEqual([
      `${digest.replace(':', '-')}.sig`,
    ]);
    expect(await client.listTags({ registry: registry.host, repository: 'home/app' })).toEqual(['v1']);
    const pub = join(dir, 'ecdsa-p256-sha256.pub');
    expect((await createVerifier(o).verifyRegistry(`${registry.host}/home/app:v1`, { key: pub })).verified).toBe(true);
    expect((await createVerifier(options).verifyRegistry(`${registry.host}/home/app:v1`, { key: pub })).verified).toBe(
      false,
    );
    execFileSync(cosignPath, ['verify', '--key', pub, '--insecure-ignore-tlog', `${registry.host}/home/app:v1`], {
      stdio: 'pipe',
      env: elsewhere,
    });
  });
});
