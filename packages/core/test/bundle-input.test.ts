import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cosignError, readBundle } from '../src/index.js';

// Issue 11: input errors get a stable code and a message about the input, never Node's own text.
const dir = mkdtempSync(join(tmpdir(), 'cosignkit-bundle-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signature = sign('sha256', Buffer.from('x'), privateKey).toString('base64');

function bundleWith(messageSignature: Record<string, unknown>): string {
  const path = join(dir, `${Math.random()}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: 'aGludA==' } },
      messageSignature,
    }),
  );
  return path;
}

describe('readBundle: fields of the wrong type', () => {
  const digest = { algorithm: 'SHA2_256', digest: Buffer.alloc(32).toString('base64') };
  it.each([123, {}, [], true])('"signature": %j is BUNDLE_MALFORMED naming the field', async (bad) => {
    const path = bundleWith({ messageDigest: digest, signature: bad });
    await expect(readBundle(path, 'ecdsa-p256-sha256')).rejects.toMatchObject({
      code: 'BUNDLE_MALFORMED',
      message: expect.stringMatching(/messageSignature\.signature is not a base64 string$/),
    });
  });

  it('a digest of the wrong type and a legacy base64Signature of the wrong type', async () => {
    await expect(
      readBundle(bundleWith({ messageDigest: { ...digest, digest: 5 }, signature }), 'ecdsa-p256-sha256'),
    ).rejects.toMatchObject({ code: 'BUNDLE_MALFORMED', message: expect.stringMatching(/messageDigest\.digest/) });
    const legacy = join(dir, 'legacy.json');
    writeFileSync(legacy, JSON.stringify({ base64Signature: 123 }));
    await expect(readBundle(legacy, 'ecdsa-p256-sha256')).rejects.toMatchObject({ code: 'BUNDLE_MALFORMED' });
  });

  it('the well-typed bundle still reads', async () => {
    const result = await readBundle(bundleWith({ messageDigest: digest, signature }), 'ecdsa-p256-sha256');
    expect(result.signature.toString('base64')).toBe(signature);
  });
});

describe('cosign error classes', () => {
  it('a protobuf error (Go puts a no-break space after "proto:") is BUNDLE_MALFORMED, not COSIGN_FAILED', () => {
    const stderr =
      'WARNING: Skipping tlog verification is an insecure practice\nError: proto:\u00a0(line 1:398): unknown field "base64Signature"\n';
    expect(cosignError('verify-blob', { exitCode: 1, stderr, argv: [] }).code).toBe('BUNDLE_MALFORMED');
  });
});
