import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendRegistry, CosignkitError, fingerprintOf, publicKeyPem } from '@cosignkit/core';
import { createAttester, createSigner, createVerifier } from 'cosignkit';
import { cosignKeyPair, requireCosign, tempDir } from '../../core/test/helpers/cosign-cli.js';
import { fakeMemoryBackend, memoryStore } from '@cosignkit/key-testkit';

const { dir, cleanup } = tempDir();
const keys = memoryStore('t');
const artifact = join(dir, 'artifact.txt');
let cosignPath: string;
let withCosign: Record<string, string | undefined>;
const withoutCosign = { ...process.env, PATH: '/nonexistent', COSIGN_PATH: undefined };

beforeAll(async () => {
  cosignPath = await requireCosign();
  // Only cosign on PATH: no `sigstore-kms-cosignkit` plugin, whatever the machine has.
  withCosign = { ...process.env, PATH: dirname(cosignPath), COSIGN_PATH: undefined };
  keys.add('main');
  keys.add('spare', 'ecdsa-p384-sha384');
  writeFileSync(artifact, 'roles\n');
  writeFileSync(join(dir, 'auto-predicate.json'), '{"builder":"roles"}\n');
});
afterAll(cleanup);

const registry = (env: Record<string, string | undefined>, secret?: string) =>
  new BackendRegistry({ env, ...(secret ? { secrets: async () => secret } : {}) }).register(fakeMemoryBackend());

async function caught(promise: Promise<unknown>): Promise<CosignkitError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(CosignkitError.isInstance(error), `expected a CosignkitError, got ${String(error)}`).toBe(true);
  return error as CosignkitError;
}

describe('Signer', () => {
  it('needs a key or a default key', async () => {
    const error = await caught(
      createSigner({ engine: 'native', keys: registry(withCosign) }).signBlobLocal(artifact, {}),
    );
    expect(error.code).toBe('USAGE');
    expect(error.message).toBe('no key: pass --key or set a default key');
  });

  it('uses the default key when none is given', async () => {
    const signer = createSigner({ engine: 'native', keys: registry(withCosign), defaultKey: 'memory:t/spare' });
    const result = await signer.signBlobLocal(artifact, {});
    expect(result.keyFingerprint).toBe(fingerprintOf(keys.publicKey('spare')));
    // The spare key is P-384: blobs are hashed with SHA-256 for every ECDSA key, as cosign does.
    expect(result.digest.algorithm).toBe('sha256');
  });

  it('auto: native for a backend key when the cosignkit plugin is not on PATH, cosign for a key file', async () => {
    const bundle = join(dir, 'auto.json');
    const native = await createSigner({ keys: registry(withCosign), env: withCosign }).signBlobLocal(artifact, {
      key: 'memory:t/main',
      bundle,
    });
    expect(native.engine).toBe('native');

    const pair = cosignKeyPair(cosignPath, dir, 'pw');
    const viaCosign = await createSigner({ keys: registry(withCosign, 'pw'), env: withCosign }).signBlobLocal(
      artifact,
      { key: pair.key },
    );
    expect(viaCosign.engine).toBe('cosign');
    expect(viaCosign.keyFingerprint).toBe(fingerprintOf(createPublicKey(readFileSync(pair.pub))));
  });

  it('auto: native when no cosign is found; cosign engine then says COSIGN_NOT_FOUND', async () => {
    const result = await createSigner({ keys: registry(withoutCosign), env: withoutCosign }).signBlobLocal(artifact, {
      key: 'memory:t/main',
    });
    expect(result.engine).toBe('native');
    const error = await caught(
      createSigner({ engine: 'cosign', keys: registry(withoutCosign), env: withoutCosign }).signBlobLocal(artifact, {
        key: 'memory:t/main',
      }),
    );
    expect(error.code).toBe('COSIGN_NOT_FOUND');
  });

  it('never hands a reference with an inline PIN to cosign', async () => {
    const key = 'memory:t/main?pin-value=1234';
    const error = await caught(
      createSigner({ engine: 'cosign', keys: registry(withCosign), env: withCosign }).signBlobLocal(artifact, { key }),
    );
    expect(error.code).toBe('USAGE');
    expect(error.message).not.toContain('1234');
    // Under auto it stays native even if the plugin were on PATH.
    const pluginDir = join(dir, 'plugin-bin');
    mkdirSync(pluginDir);
    writeFileSync(join(pluginDir, 'sigstore-kms-cosignkit'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const env = { ...withCosign, PATH: `${pluginDir}:${withCosign.PATH}` };
    expect((await createSigner({ keys: registry(env), env }).signBlobLocal(artifact, { key })).engine).toBe('native');
  });

  it('auto never routes a backend key through cosign, even with cosign and the plugin on PATH (issue 17)', async () => {
    const pluginDir = join(dir, 'plugin-bin-auto');
    mkdirSync(pluginDir);
    // A plugin that would fail if it were ever run: auto must not even try it.
    writeFileSync(join(pluginDir, 'sigstore-kms-cosignkit'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const env = { ...withCosign, PATH: `${pluginDir}:${withCosign.PATH}` };
    const signed = await createSigner({ keys: registry(env), env }).signBlobLocal(artifact, { key: keys.ref('main') });
    expect(signed.engine).toBe('native');
    const attested = await createAttester({ keys: registry(env), env }).attestBlobLocal(artifact, {
      key: keys.ref('main'),
      predicate: join(dir, 'auto-predicate.json'),
    });
    expect(attested.engine).toBe('native');
    // A key file on the same PATH still goes through cosign: the rule is the key kind, nothing else.
    mkdirSync(join(dir, 'auto-file'));
    const pair = cosignKeyPair(cosignPath, join(dir, 'auto-file'), 'pw');
    expect(
      (await createSigner({ keys: registry(env, 'pw'), env }).signBlobLocal(artifact, { key: pair.key })).engine,
    ).toBe('cosign');
  });

  it('an explicit cosignPath that does not exist falls back to native under auto', async () => {
    const signer = createSigner({ keys: registry(withCosign), env: withCosign, cosignPath: join(dir, 'no-cosign') });
    expect((await signer.signBlobLocal(artifact, { key: 'memory:t/main' })).engine).toBe('native');
  });
});

describe('Verifier', () => {
  const sig = join(dir, 'v.sig');
  const pem = join(dir, 'main.pub');
  beforeAll(async () => {
    await createSigner({ engine: 'native', keys: registry(withCosign) }).signBlobLocal(artifact, {
      key: 'memory:t/main',
      outputSignature: sig,
    });
    writeFileSync(pem, publicKeyPem(keys.publicKey('main')));
  });

  it('takes a PEM public key file or a key reference, on both engines', async () => {
    for (const engine of ['native', 'cosign'] as const) {
      const verifier = createVerifier({ engine, keys: registry(withCosign), env: withCosign });
      for (const key of [pem, 'memory:t/main']) {
        const result = await verifier.verifyLocal(artifact, { key, signature: sig });
        expect(result, `${engine} ${key}`).toMatchObject({ verified: true, engine });
      }
      expect((await verifier.verifyLocal(artifact, { key: 'memory:t/spare', signature: sig })).verified).toBe(false);
    }
  });

  it('auto picks cosign when it is found, native otherwise', async () => {
    expect(
      (
        await createVerifier({ keys: registry(withCosign), env: withCosign }).verifyLocal(artifact, {
          key: pem,
          signature: sig,
        })
      ).engine,
    ).toBe('cosign');
    expect(
      (
        await createVerifier({ keys: registry(withoutCosign), env: withoutCosign }).verifyLocal(artifact, {
          key: pem,
          signature: sig,
        })
      ).engine,
    ).toBe('native');
  });

  it('refuses a missing key file, a malformed PEM and a missing signature source', async () => {
    const verifier = createVerifier({ engine: 'native', keys: registry(withCosign) });
    expect((await caught(verifier.verifyLocal(artifact, { key: join(dir, 'absent.pub'), signature: sig }))).code).toBe(
      'KEY_NOT_FOUND',
    );
    const bad = join(dir, 'bad.pub');
    writeFileSync(bad, '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n');
    expect((await caught(verifier.verifyLocal(artifact, { key: bad, signature: sig }))).code).toBe('KEY_MALFORMED');
    expect((await caught(verifier.verifyLocal(artifact, { key: pem }))).code).toBe('USAGE');
  });
});

describe('Attester', () => {
  it('attestBlobLocal on the cosign engine runs cosign attest-blob; cosign verifies the envelope it wrote', async () => {
    mkdirSync(join(dir, 'attest'), { recursive: true });
    const pair = cosignKeyPair(cosignPath, join(dir, 'attest'), 'pw');
    const predicate = join(dir, 'predicate.json');
    writeFileSync(predicate, '{"builder":{"id":"https://example.com/b"},"buildType":"https://example.com/t"}');
    const outputFile = join(dir, 'attest', 'envelope.json');
    const bundle = join(dir, 'attest', 'envelope.sigstore.json');
    const attester = createAttester({ engine: 'cosign', keys: registry(withCosign, 'pw'), env: withCosign });
    const result = await attester.attestBlobLocal(artifact, {
      key: pair.key,
      predicate,
      type: 'slsaprovenance',
      outputFile,
      bundle,
    });
    expect(result.engine).toBe('cosign');
    expect(result.predicateType).toBe('https://slsa.dev/provenance/v0.2');
    const sha256 = createHash('sha256').update(readFileSync(artifact)).digest('hex');
    expect(result.subjects).toEqual([{ name: basename(artifact), digest: { sha256 } }]);
    expect(readFileSync(outputFile, 'utf8').trim()).toBe(result.envelope);
    expect(JSON.parse(readFileSync(bundle, 'utf8')).mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    execFileSync(
      cosignPath,
      [
        'verify-blob-attestation',
        '--key',
        pair.pub,
        '--type',
        'slsaprovenance',
        '--insecure-ignore-tlog=true',
        '--signature',
        outputFile,
        artifact,
      ],
      { stdio: 'pipe' },
    );
  });

  it('attestBlobLocal: auto takes cosign for a key file, native for a backend key; v1 statements are native only', async () => {
    const predicate = join(dir, 'predicate.json');
    mkdirSync(join(dir, 'attest-auto'), { recursive: true });
    const pair = cosignKeyPair(cosignPath, join(dir, 'attest-auto'), 'pw');
    const auto = createAttester({ keys: registry(withCosign, 'pw'), env: withCosign });
    expect((await auto.attestBlobLocal(artifact, { key: pair.key, predicate })).engine).toBe('cosign');
    expect((await auto.attestBlobLocal(artifact, { key: 'memory:t/main', predicate })).engine).toBe('native');
    const refused = await caught(
      createAttester({ engine: 'cosign', keys: registry(withCosign, 'pw'), env: withCosign }).attestBlobLocal(
        artifact,
        { key: pair.key, predicate, statementVersion: 'v1' },
      ),
    );
    expect(refused.code).toBe('NOT_SUPPORTED');
    const native = await createAttester({ engine: 'native', keys: registry(withCosign) }).attestBlobLocal(artifact, {
      key: 'memory:t/main',
      predicate,
      statementVersion: 'v1',
    });
    expect(Object.keys(native.subjects[0]!.digest)).toEqual(['sha256', 'sha512']);
  });
});
