import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_TRUSTED_ROOT, fingerprintOf, publicKeyPem } from '@cosignkit/core';
import { nativeSignBlob, nativeVerifyBlob } from 'cosignkit';
import { cosign, cosignKeyPair, requireCosign, tempDir } from '../../core/test/helpers/cosign-cli.js';
import { memoryStore } from '@cosignkit/key-testkit';

// Real cosign on both sides: what one engine writes, the other verifies.
const { dir, cleanup } = tempDir();
const password = 'interop-password';
let cosignPath: string;
let keyPair: { key: string; pub: string };
let cosignPub: KeyObject;
const artifact = join(dir, 'release.tar');
const tampered = join(dir, 'release-tampered.tar');
const trustedRoot = join(dir, 'trusted_root.json');

beforeAll(async () => {
  cosignPath = await requireCosign();
  keyPair = cosignKeyPair(cosignPath, dir, password);
  cosignPub = createPublicKey(readFileSync(keyPair.pub));
  writeFileSync(artifact, Buffer.alloc(1536 * 1024, 'release contents '));
  writeFileSync(tampered, Buffer.concat([readFileSync(artifact), Buffer.from('!')]));
  writeFileSync(trustedRoot, EMPTY_TRUSTED_ROOT);
});
afterAll(cleanup);

function cosignSign(extra: string[]): void {
  const run = cosign(
    cosignPath,
    ['sign-blob', '--yes', '--key', keyPair.key, '--tlog-upload=false', ...extra, artifact],
    { COSIGN_PASSWORD: password },
  );
  expect(run.status, run.stderr).toBe(0);
}

describe('cosign writes, native verifies', () => {
  it('a base64 signature (--output-signature)', async () => {
    const sig = join(dir, 'cosign.sig');
    cosignSign(['--output-signature', sig]);
    const result = await nativeVerifyBlob(artifact, { publicKey: cosignPub, signature: sig });
    expect(result.verified).toBe(true);
    expect(result.signatures[0]!.keyFingerprint).toBe(fingerprintOf(cosignPub));
    expect((await nativeVerifyBlob(tampered, { publicKey: cosignPub, signature: sig })).verified).toBe(false);
  });

  it('a legacy bundle (--bundle without the new format)', async () => {
    const bundle = join(dir, 'cosign-legacy.json');
    cosignSign(['--bundle', bundle]);
    expect(Object.keys(JSON.parse(readFileSync(bundle, 'utf8')))).toContain('base64Signature');
    expect((await nativeVerifyBlob(artifact, { publicKey: cosignPub, bundle })).verified).toBe(true);
    expect((await nativeVerifyBlob(tampered, { publicKey: cosignPub, bundle })).verified).toBe(false);
  });

  it('a v0.3 Sigstore bundle (--new-bundle-format), whose shape native output matches', async () => {
    const bundle = join(dir, 'cosign-v03.json');
    cosignSign(['--new-bundle-format', '--bundle', bundle]);
    expect((await nativeVerifyBlob(artifact, { publicKey: cosignPub, bundle })).verified).toBe(true);
    expect((await nativeVerifyBlob(tampered, { publicKey: cosignPub, bundle })).verified).toBe(false);

    // Same shape, field order and hint rule as what native writes for its own key.
    const keys = withKey('k');
    const nativeBundle = join(dir, 'native-shape.json');
    await nativeSignBlob(artifact, { manager: keys.manager, keyId: 'k', bundle: nativeBundle });
    const fromCosign = JSON.parse(readFileSync(bundle, 'utf8'));
    const fromNative = JSON.parse(readFileSync(nativeBundle, 'utf8'));
    expect(shape(fromNative)).toEqual(shape(fromCosign));
    expect(fromNative.messageSignature.messageDigest).toEqual(fromCosign.messageSignature.messageDigest);
    expect(Buffer.from(fromCosign.verificationMaterial.publicKey.hint, 'base64').toString('hex')).toBe(
      fingerprintOf(cosignPub),
    );
  });
});

// P-384 too: cosign verifies every ECDSA key with SHA-256, so that is what native signs with.
describe.each(['ecdsa-p256-sha256', 'ecdsa-p384-sha384'] as const)(
  'native writes, cosign verifies (%s)',
  (algorithm) => {
    const keys = withKey('node-key', algorithm);
    const manager = keys.manager;
    const sig = join(dir, `native-${algorithm}.sig`);
    const bundle = join(dir, `native-${algorithm}.sigstore.json`);
    const pub = join(dir, `node-${algorithm}.pub`);

    beforeAll(async () => {
      await nativeSignBlob(artifact, { manager, keyId: 'node-key', outputSignature: sig, bundle });
      writeFileSync(pub, publicKeyPem(keys.publicKey('node-key')));
    });

    it('a native signature passes `cosign verify-blob --signature`, and fails for a tampered file', () => {
      const ok = cosign(cosignPath, [
        'verify-blob',
        '--key',
        pub,
        '--insecure-ignore-tlog=true',
        '--signature',
        sig,
        artifact,
      ]);
      expect(ok.status, ok.stderr).toBe(0);
      const bad = cosign(cosignPath, [
        'verify-blob',
        '--key',
        pub,
        '--insecure-ignore-tlog=true',
        '--signature',
        sig,
        tampered,
      ]);
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toMatch(/invalid signature/);
    });

    it('a native v0.3 bundle passes `cosign verify-blob --new-bundle-format`, and fails for a tampered file', () => {
      const args = [
        'verify-blob',
        '--key',
        pub,
        '--insecure-ignore-tlog=true',
        '--new-bundle-format',
        '--trusted-root',
        trustedRoot,
        '--bundle',
        bundle,
      ];
      const ok = cosign(cosignPath, [...args, artifact]);
      expect(ok.status, ok.stderr).toBe(0);
      const bad = cosign(cosignPath, [...args, tampered]);
      expect(bad.status).not.toBe(0);
    });
  },
);

/** Keys of every object, in order, with leaves replaced by their JSON type. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => [k, shape(v)]);
  return typeof value;
}

/** A fresh in-memory store holding one key. */
function withKey(id: string, algorithm?: Parameters<ReturnType<typeof memoryStore>['add']>[1]) {
  const store = memoryStore();
  store.add(id, algorithm);
  return store;
}
