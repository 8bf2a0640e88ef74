import { createPublicKey, type KeyObject } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BackendRegistry,
  CosignRunner,
  CosignkitError,
  findCosign,
  fingerprintOf,
  redactArgv,
  signBlobArgs,
  verifyBlobArgs,
  type Logger,
} from '@cosignkit/core';
import { createSigner, createVerifier, nativeSignBlob, nativeVerifyBlob } from 'cosignkit';
import { cosignKeyPair, requireCosign, tempDir } from '../../core/test/helpers/cosign-cli.js';
import { fakeMemoryBackend, memoryStore } from '@cosignkit/key-testkit';

const { dir, cleanup } = tempDir();
const password = 'runner-password';
let cosignPath: string;
let keyPair: { key: string; pub: string };
let cosignPub: KeyObject;
const artifact = join(dir, 'artifact.txt');
const tampered = join(dir, 'tampered.txt');
/** PATH with cosign only: no cosignkit plugin from the developer's machine leaks in. */
let env: Record<string, string | undefined>;

beforeAll(async () => {
  cosignPath = await requireCosign();
  keyPair = cosignKeyPair(cosignPath, dir, password);
  cosignPub = createPublicKey(readFileSync(keyPair.pub));
  writeFileSync(artifact, 'hello from the runner tests\n');
  writeFileSync(tampered, 'hello from the runner tests!\n');
  env = { ...process.env, PATH: dirname(cosignPath), COSIGN_PATH: undefined, COSIGN_PASSWORD: undefined };
});
afterAll(cleanup);

function recordingLogger(): Logger & { entries: { message: string; fields?: Record<string, unknown> }[] } {
  const entries: { message: string; fields?: Record<string, unknown> }[] = [];
  const log = (message: string, fields?: Record<string, unknown>) => void entries.push({ message, fields });
  return { entries, debug: log, info: log, warn: log };
}

async function caught(promise: Promise<unknown>): Promise<CosignkitError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(CosignkitError.isInstance(error), `expected a CosignkitError, got ${String(error)}`).toBe(true);
  return error as CosignkitError;
}

function fileRegistry(secret = password): BackendRegistry {
  return new BackendRegistry({ env, secrets: async () => secret });
}

describe('finding cosign', () => {
  it('finds the real cosign and learns its grammar from the help text when it says "devel"', async () => {
    const info = await findCosign({ env });
    expect(info.path).toBe(cosignPath);
    // The Debian 2.5.0 build: --new-bundle-format exists and defaults to false.
    expect(info.grammar).toBe('v2');
    expect(typeof info.version).toBe('string');
  });

  it('COSIGN_PATH wins, and a wrong one is COSIGN_NOT_FOUND', async () => {
    expect((await findCosign({ env: { ...env, PATH: '', COSIGN_PATH: cosignPath } })).path).toBe(cosignPath);
    const error = await caught(findCosign({ env: { ...env, COSIGN_PATH: join(dir, 'no-cosign') } }));
    expect(error.code).toBe('COSIGN_NOT_FOUND');
    expect((await caught(findCosign({ env: { ...env, PATH: '' } }))).code).toBe('COSIGN_NOT_FOUND');
  });
});

describe('argv', () => {
  it('builds v2 and v3 sign-blob argv for key-only signing without a log', () => {
    expect(signBlobArgs('v2', { key: 'k.key', file: 'f', bundle: 'b.json', outputSignature: 's.sig' })).toEqual([
      'sign-blob',
      '--yes',
      '--key',
      'k.key',
      '--tlog-upload=false',
      '--new-bundle-format=true',
      '--bundle',
      'b.json',
      '--output-signature',
      's.sig',
      '--',
      'f',
    ]);
    expect(signBlobArgs('v3', { key: 'cosignkit://tpm:release', file: 'f', bundle: 'b.json' })).toEqual([
      'sign-blob',
      '--yes',
      '--key',
      'cosignkit://tpm:release',
      '--tlog-upload=false',
      '--use-signing-config=false',
      '--new-bundle-format=true',
      '--bundle',
      'b.json',
      '--',
      'f',
    ]);
  });

  it('builds verify-blob argv for each input kind', () => {
    expect(verifyBlobArgs('v2', { publicKey: 'k.pub', file: 'f', signature: 's.sig' })).toEqual([
      'verify-blob',
      '--key',
      'k.pub',
      '--insecure-ignore-tlog=true',
      '--signature',
      's.sig',
      '--',
      'f',
    ]);
    expect(verifyBlobArgs('v3', { publicKey: 'k.pub', file: 'f', bundle: 'b.json', sigstoreBundle: false })).toEqual([
      'verify-blob',
      '--key',
      'k.pub',
      '--insecure-ignore-tlog=true',
      '--new-bundle-format=false',
      '--bundle',
      'b.json',
      '--',
      'f',
    ]);
    expect(
      verifyBlobArgs('v2', {
        publicKey: 'k.pub',
        file: 'f',
        bundle: 'b.json',
        sigstoreBundle: true,
        trustedRoot: 'tr.json',
      }),
    ).toEqual([
      'verify-blob',
      '--key',
      'k.pub',
      '--insecure-ignore-tlog=true',
      '--new-bundle-format=true',
      '--trusted-root',
      'tr.json',
      '--bundle',
      'b.json',
      '--',
      'f',
    ]);
  });

  it('redacts inline secrets of key references', () => {
    expect(redactArgv(['--key', 'cosignkit://pkcs11:token=ci;object=k?module-path=/m.so&pin-value=1234'])).toEqual([
      '--key',
      'cosignkit://pkcs11:token=ci;object=k?module-path=/m.so&pin-value=REDACTED',
    ]);
  });
});

describe('cosign engine: sign-blob', () => {
  it('signs with a cosign key file; the password goes through the environment only', async () => {
    const logger = recordingLogger();
    const signer = createSigner({ engine: 'cosign', keys: fileRegistry(), env, logger });
    const sig = join(dir, 'c.sig');
    const bundle = join(dir, 'c.sigstore.json');
    const result = await signer.signBlobLocal(artifact, { key: keyPair.key, outputSignature: sig, bundle });
    expect(result).toMatchObject({
      engine: 'cosign',
      signaturePath: sig,
      bundlePath: bundle,
      keyFingerprint: fingerprintOf(cosignPub),
    });
    expect(readFileSync(sig, 'utf8')).toBe(result.signature);
    expect(result.digest.algorithm).toBe('sha256');

    const run = logger.entries.find((e) => e.message === 'running cosign')!;
    const argv = run.fields!.argv as string[];
    expect(argv[0]).toBe('sign-blob');
    expect(argv).toContain(keyPair.key);
    expect(argv.join(' ')).not.toContain(password);
    expect(run.fields!.secretEnv).toEqual(['COSIGN_PASSWORD']);
    expect(JSON.stringify(logger.entries)).not.toContain(password);

    for (const input of [{ signature: sig }, { bundle }]) {
      expect((await nativeVerifyBlob(artifact, { publicKey: cosignPub, ...input })).verified).toBe(true);
    }
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('maps a wrong password to PASSWORD_INCORRECT with exit code, stderr and redacted argv, and leaves no output', async () => {
    const out = join(dir, 'wrong-password');
    mkdirSync(out);
    const signer = createSigner({ engine: 'cosign', keys: fileRegistry('not-the-password'), env });
    const error = await caught(
      signer.signBlobLocal(artifact, {
        key: keyPair.key,
        outputSignature: join(out, 's.sig'),
        bundle: join(out, 'b.json'),
      }),
    );
    expect(error.code).toBe('PASSWORD_INCORRECT');
    expect(error.details.exitCode).toBe(1);
    expect(error.details.stderr).toMatch(/decrypt/);
    expect((error.details.argv as string[])[0]).toBe('sign-blob');
    expect(JSON.stringify(error.details)).not.toContain('not-the-password');
    expect(error.message).not.toContain('not-the-password');
    expect(readdirSync(out)).toEqual([]);
  });

  it('maps missing key, missing file and directory to typed errors', async () => {
    const signer = createSigner({ engine: 'cosign', keys: fileRegistry(), env });
    expect((await caught(signer.signBlobLocal(artifact, { key: join(dir, 'absent.key') }))).code).toBe('KEY_NOT_FOUND');
    expect((await caught(signer.signBlobLocal(join(dir, 'absent.txt'), { key: keyPair.key }))).code).toBe(
      'FILE_NOT_FOUND',
    );
    expect((await caught(signer.signBlobLocal(dir, { key: keyPair.key }))).code).toBe('NOT_A_FILE');
  });

  it('asks for the plugin for non-file keys', async () => {
    const registry = new BackendRegistry({ env }).register(fakeMemoryBackend());
    const signer = createSigner({ engine: 'cosign', keys: registry, env });
    expect((await caught(signer.signBlobLocal(artifact, { key: 'memory:t/k' }))).code).toBe('NOT_SUPPORTED');
  });

  it('honours AbortSignal and time-outs', async () => {
    const runner = await CosignRunner.create({ env, timeoutMs: 1 });
    const sig = join(dir, 'timeout.sig');
    const timedOut = await caught(runner.signBlob(artifact, { key: keyPair.key, password, outputSignature: sig }));
    expect(timedOut.code).toBe('TIMEOUT');
    const controller = new AbortController();
    controller.abort();
    const aborted = await caught(
      (await CosignRunner.create({ env })).signBlob(artifact, {
        key: keyPair.key,
        password,
        outputSignature: sig,
        signal: controller.signal,
      }),
    );
    expect(aborted.code).toBe('ABORTED');
    expect(readdirSync(dir).filter((n) => n.startsWith('.timeout.sig') || n === 'timeout.sig')).toEqual([]);
  });
});

describe('cosign engine: verify-blob', () => {
  const keys = withKey('node', undefined, 't');
  const sig = join(dir, 'n.sig');
  const bundle = join(dir, 'n.sigstore.json');
  const otherBundle = join(dir, 'other.sigstore.json');
  const pub = join(dir, 'node.pub');
  let verifier: ReturnType<typeof createVerifier>;

  beforeAll(async () => {
    const manager = keys.manager;
    await nativeSignBlob(artifact, { manager, keyId: 'node', outputSignature: sig, bundle });
    await nativeSignBlob(tampered, { manager, keyId: 'node', bundle: otherBundle });
    writeFileSync(pub, keys.publicKey('node').export({ type: 'spki', format: 'pem' }));
    verifier = createVerifier({
      engine: 'cosign',
      keys: new BackendRegistry({ env }).register(fakeMemoryBackend()),
      env,
    });
  });

  it('verifies native signatures and bundles with cosign', async () => {
    for (const input of [{ signature: sig }, { bundle }, { signature: sig, bundle }]) {
      const result = await verifier.verifyLocal(artifact, { key: pub, ...input });
      expect(result).toMatchObject({ verified: true, engine: 'cosign', failures: [] });
      expect(result.signatures.every((s) => s.keyFingerprint === fingerprintOf(keys.publicKey('node')))).toBe(true);
    }
  });

  it('a mismatch is a result, not a throw', async () => {
    const cases: [string, { signature?: string; bundle?: string }][] = [
      [tampered, { signature: sig }],
      [tampered, { bundle }],
      [artifact, { bundle: otherBundle }], // another file's bundle
    ];
    for (const [file, input] of cases) {
      const result = await verifier.verifyLocal(file, { key: pub, ...input });
      expect(result.verified).toBe(false);
      expect(result.failures[0]!.code).toBe('VERIFICATION_FAILED');
    }
  });

  it("checks the bundle's message digest itself", async () => {
    const json = JSON.parse(readFileSync(bundle, 'utf8'));
    json.messageSignature.messageDigest = JSON.parse(readFileSync(otherBundle, 'utf8')).messageSignature.messageDigest;
    const spliced = join(dir, 'spliced.sigstore.json');
    writeFileSync(spliced, JSON.stringify(json));
    const result = await verifier.verifyLocal(artifact, { key: pub, bundle: spliced });
    expect(result.verified).toBe(false);
    expect(result.failures.map((f) => f.message).join('\n')).toMatch(/message digest/);
  });

  it('verifies with a key reference (its public key handed to cosign as a temp PEM file)', async () => {
    const result = await verifier.verifyLocal(artifact, { key: 'memory:t/node', bundle });
    expect(result).toMatchObject({ verified: true, engine: 'cosign' });
  });

  it('refuses garbage with the same codes as native', async () => {
    const garbageBundle = join(dir, 'garbage.json');
    const garbageSig = join(dir, 'garbage.sig');
    writeFileSync(garbageBundle, 'garbage');
    writeFileSync(garbageSig, '!!!');
    expect((await caught(verifier.verifyLocal(artifact, { key: pub, bundle: garbageBundle }))).code).toBe(
      'BUNDLE_MALFORMED',
    );
    expect((await caught(verifier.verifyLocal(artifact, { key: pub, signature: garbageSig }))).code).toBe(
      'SIGNATURE_MALFORMED',
    );
    expect((await caught(verifier.verifyLocal(join(dir, 'absent'), { key: pub, signature: sig }))).code).toBe(
      'FILE_NOT_FOUND',
    );
    expect((await caught(verifier.verifyLocal(dir, { key: pub, signature: sig }))).code).toBe('NOT_A_FILE');
  });
});

/** A fresh in-memory store holding one key. */
function withKey(id: string, algorithm?: Parameters<ReturnType<typeof memoryStore>['add']>[1], name?: string) {
  const store = memoryStore(name);
  store.add(id, algorithm);
  return store;
}
