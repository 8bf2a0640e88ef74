import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CosignkitError, SMALL_FILE_BYTES, spkiDer } from '@cosignkit/core';
import { nativeSignBlob, nativeVerifyBlob } from 'cosignkit';
import { memoryStore } from '@cosignkit/key-testkit';
import { tempDir } from '../../core/test/helpers/cosign-cli.js';

const { dir, cleanup } = tempDir();
const keys = memoryStore();
const manager = keys.manager;
const signDigest = vi.spyOn(manager, 'signDigest');
const signMessage = vi.spyOn(manager, 'signMessage');
const artifact = join(dir, 'artifact.bin');
const other = join(dir, 'other.bin');

beforeAll(() => {
  keys.add('p256', 'ecdsa-p256-sha256');
  keys.add('p384', 'ecdsa-p384-sha384');
  keys.add('ed', 'ed25519');
  // A little over 2 MiB: several 1 MiB chunks in the streaming digest.
  writeFileSync(artifact, Buffer.alloc(2 * 1024 * 1024 + 123, 'cosignkit'));
  writeFileSync(other, 'another file');
});
afterAll(cleanup);

const pub = (id: string) => keys.publicKey(id);

async function expectCode(promise: Promise<unknown>, code: string): Promise<CosignkitError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(CosignkitError.isInstance(error), `expected a CosignkitError ${code}, got ${String(error)}`).toBe(true);
  expect((error as CosignkitError).code).toBe(code);
  return error as CosignkitError;
}

describe('native sign-blob', () => {
  it("writes a base64 signature and a v0.3 bundle shaped like cosign's", async () => {
    const sig = join(dir, 'a.sig');
    const bundle = join(dir, 'a.sigstore.json');
    const result = await nativeSignBlob(artifact, { manager, keyId: 'p256', outputSignature: sig, bundle });
    const digest = createHash('sha256').update(readFileSync(artifact)).digest();
    expect(result.engine).toBe('native');
    expect(result.digest).toEqual({ algorithm: 'sha256', hex: digest.toString('hex') });
    expect(readFileSync(sig, 'utf8')).toBe(result.signature);
    expect(result.keyFingerprint).toBe(
      createHash('sha256')
        .update(spkiDer(pub('p256')))
        .digest('hex'),
    );
    const text = readFileSync(bundle, 'utf8');
    expect(text.endsWith('}')).toBe(true);
    const json = JSON.parse(text);
    // Field order and shape as `cosign sign-blob --new-bundle-format --tlog-upload=false --key …` writes.
    expect(Object.keys(json)).toEqual(['mediaType', 'verificationMaterial', 'messageSignature']);
    expect(json).toEqual({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: {
        publicKey: {
          hint: createHash('sha256')
            .update(spkiDer(pub('p256')))
            .digest('base64'),
        },
      },
      messageSignature: {
        messageDigest: { algorithm: 'SHA2_256', digest: digest.toString('base64') },
        signature: result.signature,
      },
    });
    expect(Object.keys(json.messageSignature)).toEqual(['messageDigest', 'signature']);
    expect(signDigest).toHaveBeenCalled();
  });

  it('hashes with SHA-256 for P-384 keys too, as cosign does', async () => {
    const bundle = join(dir, 'p384.json');
    const result = await nativeSignBlob(artifact, { manager, keyId: 'p384', bundle });
    expect(result.digest.algorithm).toBe('sha256');
    expect(JSON.parse(readFileSync(bundle, 'utf8')).messageSignature.messageDigest.algorithm).toBe('SHA2_256');
    const verdict = await nativeVerifyBlob(artifact, { publicKey: pub('p384'), bundle });
    expect(verdict.verified).toBe(true);
    expect(verdict.artifact.digest.algorithm).toBe('sha256');
  });

  it('signs Ed25519 as a pure signature over the message', async () => {
    const sig = join(dir, 'ed.sig');
    const bundle = join(dir, 'ed.json');
    await nativeSignBlob(artifact, { manager, keyId: 'ed', outputSignature: sig, bundle });
    expect(signMessage).toHaveBeenCalled();
    expect((await nativeVerifyBlob(artifact, { publicKey: pub('ed'), signature: sig })).verified).toBe(true);
    expect((await nativeVerifyBlob(artifact, { publicKey: pub('ed'), bundle })).verified).toBe(true);
    expect((await nativeVerifyBlob(other, { publicKey: pub('ed'), signature: sig })).verified).toBe(false);
  });

  it('refuses a missing file and a directory, and leaves no output behind', async () => {
    const out = join(dir, 'fail');
    mkdirSync(out);
    const sig = join(out, 'x.sig');
    const bundle = join(out, 'x.json');
    await expectCode(
      nativeSignBlob(join(dir, 'missing.bin'), { manager, keyId: 'p256', outputSignature: sig, bundle }),
      'FILE_NOT_FOUND',
    );
    await expectCode(nativeSignBlob(dir, { manager, keyId: 'p256', outputSignature: sig, bundle }), 'NOT_A_FILE');
    await expectCode(
      nativeSignBlob(artifact, { manager, keyId: 'nope', outputSignature: sig, bundle }),
      'KEY_NOT_FOUND',
    );
    // The bundle target is a directory: the signature written first must not survive either.
    const blocked = join(out, 'blocked.json');
    mkdirSync(blocked);
    await expectCode(
      nativeSignBlob(artifact, { manager, keyId: 'p256', outputSignature: sig, bundle: blocked }),
      'NOT_A_FILE',
    );
    expect(readdirSync(out)).toEqual(['blocked.json']);
    expect(readdirSync(blocked)).toEqual([]);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const sig = join(dir, 'aborted.sig');
    await expectCode(
      nativeSignBlob(artifact, { manager, keyId: 'p256', outputSignature: sig, signal: controller.signal }),
      'ABORTED',
    );
    expect(existsSync(sig)).toBe(false);
  });
});

describe('native verify-blob', () => {
  const sig = join(dir, 'v.sig');
  const bundle = join(dir, 'v.json');
  beforeAll(async () => {
    await nativeSignBlob(artifact, { manager, keyId: 'p256', outputSignature: sig, bundle });
  });

  it('verifies its own signature and bundle, and fills the result', async () => {
    for (const input of [{ signature: sig }, { bundle }, { signature: sig, bundle }]) {
      const result = await nativeVerifyBlob(artifact, { publicKey: pub('p256'), ...input });
      expect(result).toMatchObject({ verified: true, engine: 'native', failures: [] });
      expect(result.artifact).toEqual({
        path: artifact,
        digest: { algorithm: 'sha256', hex: createHash('sha256').update(readFileSync(artifact)).digest('hex') },
      });
      expect(
        result.signatures.every(
          (s) =>
            s.verified &&
            s.keyFingerprint ===
              createHash('sha256')
                .update(spkiDer(pub('p256')))
                .digest('hex'),
        ),
      ).toBe(true);
    }
  });

  // Files under SMALL_FILE_BYTES are hashed and verified in one call each, larger ones streamed: both ways must
  // give the same verdicts and digest, for every key type and for P-384's SHA-256 candidate.
  it.each([0, 1000, SMALL_FILE_BYTES - 1, SMALL_FILE_BYTES, SMALL_FILE_BYTES + 1])(
    'verifies a %i-byte file whichever way it is read, and refuses it changed by one byte',
    async (size) => {
      const file = join(dir, `sized-${size}.bin`);
      const changed = join(dir, `sized-${size}-changed.bin`);
      const data = Buffer.alloc(size, 'sized');
      writeFileSync(file, data);
      writeFileSync(changed, Buffer.concat([data, Buffer.from('x')]));
      for (const keyId of ['p256', 'p384', 'ed']) {
        const signature = join(dir, `sized-${size}-${keyId}.sig`);
        const sizedBundle = join(dir, `sized-${size}-${keyId}.json`);
        await nativeSignBlob(file, { manager, keyId, outputSignature: signature, bundle: sizedBundle });
        for (const input of [{ signature }, { bundle: sizedBundle }, { signature, bundle: sizedBundle }]) {
          const good = await nativeVerifyBlob(file, { publicKey: pub(keyId), ...input });
          expect(good, `${keyId} ${JSON.stringify(input)}`).toMatchObject({ verified: true, failures: [] });
          const { algorithm, hex } = good.artifact.digest;
          expect(hex).toBe(createHash(algorithm).update(data).digest('hex'));
          const bad = await nativeVerifyBlob(changed, { publicKey: pub(keyId), ...input });
          expect(bad.verified, `${keyId} ${JSON.stringify(input)}`).toBe(false);
        }
      }
    },
  );

  it('accepts a raw DER signature file', async () => {
    const der = join(dir, 'v.der');
    writeFileSync(der, Buffer.from(readFileSync(sig, 'utf8'), 'base64'));
    expect((await nativeVerifyBlob(artifact, { publicKey: pub('p256'), signature: der })).verified).toBe(true);
  });

  it('fails (as a result) for a tampered file and for another key', async () => {
    const tampered = join(dir, 'tampered.bin');
    writeFileSync(tampered, Buffer.concat([readFileSync(artifact), Buffer.from('x')]));
    for (const input of [{ signature: sig }, { bundle }]) {
      const result = await nativeVerifyBlob(tampered, { publicKey: pub('p256'), ...input });
      expect(result.verified).toBe(false);
      expect(result.failures.map((f) => f.code)).toEqual(['VERIFICATION_FAILED']);
      expect(result.signatures[0]!.verified).toBe(false);
    }
    const wrongKey = memoryStore().add('other');
    expect((await nativeVerifyBlob(artifact, { publicKey: wrongKey, signature: sig })).verified).toBe(false);
  });

  it("checks the bundle's message digest against the artifact itself", async () => {
    // A bundle whose signature is valid for the artifact but whose messageDigest names another file.
    const otherBundle = join(dir, 'other.json');
    await nativeSignBlob(other, { manager, keyId: 'p256', bundle: otherBundle });
    const json = JSON.parse(readFileSync(bundle, 'utf8'));
    json.messageSignature.messageDigest = JSON.parse(readFileSync(otherBundle, 'utf8')).messageSignature.messageDigest;
    const spliced = join(dir, 'spliced.json');
    writeFileSync(spliced, JSON.stringify(json));
    const result = await nativeVerifyBlob(artifact, { publicKey: pub('p256'), bundle: spliced });
    expect(result.verified).toBe(false);
    expect(result.failures[0]!.message).toMatch(/message digest/);
    // And another file's own bundle fails for this artifact.
    expect((await nativeVerifyBlob(artifact, { publicKey: pub('p256'), bundle: otherBundle })).verified).toBe(false);
  });

  it('reads v0.1, v0.2 and the legacy v0.3 media type', async () => {
    const base = JSON.parse(readFileSync(bundle, 'utf8'));
    for (const mediaType of [
      'application/vnd.dev.sigstore.bundle+json;version=0.1',
      'application/vnd.dev.sigstore.bundle+json;version=0.2',
      'application/vnd.dev.sigstore.bundle+json;version=0.3',
    ]) {
      const path = join(dir, `bundle-${mediaType.slice(-3)}.json`);
      writeFileSync(
        path,
        JSON.stringify({ ...base, mediaType, verificationMaterial: { ...base.verificationMaterial, tlogEntries: [] } }),
      );
      const result = await nativeVerifyBlob(artifact, { publicKey: pub('p256'), bundle: path });
      expect(result.verified, mediaType).toBe(true);
    }
  });

  it('reads cosign\'s legacy {"base64Signature"} bundle', async () => {
    const legacy = join(dir, 'legacy.json');
    writeFileSync(legacy, JSON.stringify({ base64Signature: readFileSync(sig, 'utf8') }));
    expect((await nativeVerifyBlob(artifact, { publicKey: pub('p256'), bundle: legacy })).verified).toBe(true);
    expect((await nativeVerifyBlob(other, { publicKey: pub('p256'), bundle: legacy })).verified).toBe(false);
  });

  it('throws BUNDLE_MALFORMED for garbage and invalid bundles', async () => {
    const cases: Record<string, string> = {
      garbage: 'garbage',
      array: '[]',
      unknown: '{"hello":"world"}',
      'no signature': JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        verificationMaterial: { publicKey: { hint: 'x' } },
        messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: 'AAAA' } },
      }),
      'bad base64Signature': '{"base64Signature":"!!!"}',
      dsse: JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        verificationMaterial: { publicKey: { hint: 'x' } },
        dsseEnvelope: {
          payload: 'e30=',
          payloadType: 'application/vnd.in-toto+json',
          signatures: [{ sig: 'AAAA', keyid: '' }],
        },
      }),
    };
    for (const [name, text] of Object.entries(cases)) {
      const path = join(dir, `bad-${name.replace(/\W/g, '')}.json`);
      writeFileSync(path, text);
      const error = await expectCode(
        nativeVerifyBlob(artifact, { publicKey: pub('p256'), bundle: path }),
        'BUNDLE_MALFORMED',
      );
      expect(error.message, name).toContain(path);
    }
  });

  it('throws SIGNATURE_MALFORMED for a garbage signature', async () => {
    for (const [name, bytes] of [
      ['text', '!!! not a signature'],
      ['short base64', 'AAAA'],
      ['binary', Buffer.from([0x30, 0x99, 1, 2])],
    ] as const) {
      const path = join(dir, `garbage-${name.replace(/\W/g, '')}.sig`);
      writeFileSync(path, bytes);
      await expectCode(nativeVerifyBlob(artifact, { publicKey: pub('p256'), signature: path }), 'SIGNATURE_MALFORMED');
    }
  });

  it('throws FILE_NOT_FOUND and NOT_A_FILE for the artifact and the inputs', async () => {
    await expectCode(
      nativeVerifyBlob(join(dir, 'missing'), { publicKey: pub('p256'), signature: sig }),
      'FILE_NOT_FOUND',
    );
    await expectCode(nativeVerifyBlob(dir, { publicKey: pub('p256'), signature: sig }), 'NOT_A_FILE');
    await expectCode(
      nativeVerifyBlob(artifact, { publicKey: pub('p256'), signature: join(dir, 'missing.sig') }),
      'FILE_NOT_FOUND',
    );
    await expectCode(nativeVerifyBlob(artifact, { publicKey: pub('p256'), bundle: dir }), 'NOT_A_FILE');
    await expectCode(nativeVerifyBlob(artifact, { publicKey: pub('p256') }), 'USAGE');
  });
});
