import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileKeyManager } from '@cosignkit/key-file';
import { buildStatement, serializeEnvelope, serializeLegacyAttestationBundle, signEnvelope } from '@cosignkit/dsse';
import { PASSWORD, cosign, cosignkit, expectFailure, expectOk, requireCosign, tempHome } from './helpers.js';

// Issue 11's "lenient where cosign is strict": each case fails as cosign (sigstore-go) fails it.
const SIGSTORE_FIXTURES = fileURLToPath(new URL('../../sigstore/test/fixtures/', import.meta.url));
const home = tempHome();
const dir = home.dir;
const env = { COSIGN_PASSWORD: PASSWORD };
const ck = (args: string[]) => cosignkit(args, { cwd: dir, env });
const json = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8'));
const write = (name: string, value: unknown) => writeFileSync(join(dir, name), JSON.stringify(value));
let manager: FileKeyManager;

beforeAll(async () => {
  requireCosign();
  for (const who of ['alice', 'bob']) {
    expectOk(await cosign(['generate-key-pair', '--output-key-prefix', who], { cwd: dir, env }));
  }
  manager = new FileKeyManager(dir, { secrets: async () => PASSWORD });
  writeFileSync(join(dir, 'blob.txt'), 'strict as cosign\n');
  for (const name of ['bundle_v3.txt', 'bundle_v3.txt.sigstore', 'staging-trusted_root.json']) {
    copyFileSync(join(SIGSTORE_FIXTURES, name), join(dir, name));
  }
  expectOk(await ck(['sign-blob', '--key', 'alice.key', '--bundle', 'alice.bundle.json', 'blob.txt']));
  expectOk(await ck(['sign-blob', '--key', 'alice.key', '--output-signature', 'alice.sig', 'blob.txt']));
});
afterAll(async () => {
  await manager?.close();
  home.cleanup();
});

// bundle_v3.txt.sigstore as interop/public-good's README gives it: staging, this identity and issuer.
const KEYLESS = [
  '--certificate-identity',
  'william@yossarian.net',
  '--certificate-oidc-issuer',
  'https://github.com/login/oauth',
  '--trusted-root',
  'staging-trusted_root.json',
];

describe('a bundle with both a messageSignature and a dsseEnvelope: exit 3 (BUNDLE_MALFORMED)', () => {
  const envelope = {
    payload: 'e30=',
    payloadType: 'application/vnd.in-toto+json',
    signatures: [{ sig: 'AA==', keyid: '' }],
  };
  it('key-based verify-blob', async () => {
    expectOk(await ck(['verify-blob', '--key', 'alice.pub', '--bundle', 'alice.bundle.json', 'blob.txt']));
    write('both.json', { ...json('alice.bundle.json'), dsseEnvelope: envelope });
    expectFailure(
      await ck(['verify-blob', '--key', 'alice.pub', '--bundle', 'both.json', 'blob.txt']),
      3,
      'BUNDLE_MALFORMED',
    );
  });
  it('keyless verify-blob (a bundle that verifies as given)', async () => {
    expectOk(await ck(['verify-blob', ...KEYLESS, '--bundle', 'bundle_v3.txt.sigstore', 'bundle_v3.txt']));
    write('kl-both.json', { ...json('bundle_v3.txt.sigstore'), dsseEnvelope: envelope });
    expectFailure(
      await ck(['verify-blob', ...KEYLESS, '--bundle', 'kl-both.json', 'bundle_v3.txt']),
      3,
      'BUNDLE_MALFORMED',
    );
  });
  it('verify-blob-attestation and verify-dsse on a DSSE bundle with a messageSignature added', async () => {
    const statement = buildStatement({
      subjects: [{ name: 'blob.txt', digest: { sha256: 'a'.repeat(64) } }],
      predicateType: 'https://example.com/p',
      predicate: {},
    });
    const signed = await signEnvelope('application/vnd.in-toto+json', Buffer.from(JSON.stringify(statement)), [
      { manager, keyId: 'alice' },
    ]);
    const envelopeJson = JSON.parse(serializeEnvelope(signed));
    write('dsse-both.json', {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: 'x' } },
      dsseEnvelope: envelopeJson,
      messageSignature: json('alice.bundle.json').messageSignature,
    });
    expectFailure(
      await ck(['verify-blob-attestation', '--key', 'alice.pub', '--bundle', 'dsse-both.json', '--check-claims=false']),
      3,
      'BUNDLE_MALFORMED',
    );
    expectFailure(
      await ck(['verify-dsse', '--dsse', 'dsse-both.json', '--key-file', 'alice.pub']),
      3,
      'BUNDLE_MALFORMED',
    );
  });
});

describe('an unknown bundle media type version: exit 3', () => {
  it.each([
    'application/vnd.dev.sigstore.bundle.v0.4+json',
    'application/vnd.dev.sigstore.bundle+json;version=0.9',
    'application/vnd.dev.sigstore.bundle+json',
  ])('%s, key-based and keyless', async (mediaType) => {
    write('v.json', { ...json('alice.bundle.json'), mediaType });
    expectFailure(
      await ck(['verify-blob', '--key', 'alice.pub', '--bundle', 'v.json', 'blob.txt']),
      3,
      'BUNDLE_MALFORMED',
    );
    write('kv.json', { ...json('bundle_v3.txt.sigstore'), mediaType });
    expectFailure(await ck(['verify-blob', ...KEYLESS, '--bundle', 'kv.json', 'bundle_v3.txt']), 3, 'BUNDLE_MALFORMED');
  });
});

describe("a legacy bundle whose cert is another key's than the signature's: exit 2", () => {
  const pemB64 = (name: string) => Buffer.from(readFileSync(join(dir, name), 'utf8')).toString('base64');
  it('verify-blob --key with {base64Signature, cert}', async () => {
    const base64Signature = readFileSync(join(dir, 'alice.sig'), 'utf8').trim();
    write('own.json', { base64Signature, cert: pemB64('alice.pub') });
    expectOk(await ck(['verify-blob', '--key', 'alice.pub', '--bundle', 'own.json', 'blob.txt']));
    write('other.json', { base64Signature, cert: pemB64('bob.pub') });
    // The real cosign refuses it (the auto engine runs it), and so does the native engine.
    expectFailure(await ck(['verify-blob', '--key', 'alice.pub', '--bundle', 'other.json', 'blob.txt']), 2);
    const run = await ck([
      'verify-blob',
      '--engine',
      'native',
      '--key',
      'alice.pub',
      '--bundle',
      'other.json',
      'blob.txt',
    ]);
    expectFailure(run, 2, 'VERIFICATION_FAILED');
    expect(run.stderr).toMatch(/another key/);
    write('garbage-cert.json', { base64Signature, cert: 'bm90IGEgcGVt' });
    expectFailure(
      await ck([
        'verify-blob',
        '--engine',
        'native',
        '--key',
        'alice.pub',
        '--bundle',
        'garbage-cert.json',
        'blob.txt',
      ]),
      3,
    );
  });
  it('verify-blob-attestation --key with the legacy attestation bundle', async () => {
    const digest = (await import('node:crypto'))
      .createHash('sha256')
      .update(readFileSync(join(dir, 'blob.txt')))
      .digest('hex');
    const statement = buildStatement({
      subjects: [{ name: 'blob.txt', digest: { sha256: digest } }],
      predicateType: 'https://cosign.sigstore.dev/attestation/v1',
      predicate: { Data: 'x', Timestamp: '2026-01-01T00:00:00Z' },
    });
    const signed = await signEnvelope('application/vnd.in-toto+json', Buffer.from(JSON.stringify(statement)), [
      { manager, keyId: 'alice' },
    ]);
    const pem = (name: string) => readFileSync(join(dir, name), 'utf8');
    writeFileSync(
      join(dir, 'att-own.json'),
      serializeLegacyAttestationBundle(serializeEnvelope(signed), pem('alice.pub')),
    );
    writeFileSync(
      join(dir, 'att-other.json'),
      serializeLegacyAttestationBundle(serializeEnvelope(signed), pem('bob.pub')),
    );
    expectOk(await ck(['verify-blob-attestation', '--key', 'alice.pub', '--bundle', 'att-own.json', 'blob.txt']));
    expectFailure(
      await ck(['verify-blob-attestation', '--key', 'alice.pub', '--bundle', 'att-other.json', 'blob.txt']),
      2,
      'VERIFICATION_FAILED',
    );
  });
});

describe('a key listed twice under two names counts once for --require-signers', () => {
  it('two signatures by one key, keyids alice and mallory, both names mapped to that key: exit 2', async () => {
    const alicePub = readFileSync(join(dir, 'alice.pub'), 'utf8');
    write('twice.json', { alice: alicePub, mallory: alicePub });
    write('pair.json', {
      alice: alicePub,
      bob: readFileSync(join(dir, 'bob.pub'), 'utf8'),
    });
    const payload = Buffer.from(
      '{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x","predicate":{}}',
    );
    const twice = await signEnvelope('application/vnd.in-toto+json', payload, [
      { manager, keyId: 'alice', keyid: 'alice' },
      { manager, keyId: 'alice', keyid: 'mallory' },
    ]);
    writeFileSync(join(dir, 'twice-env.json'), serializeEnvelope(twice));
    const run = await ck([
      'verify-dsse',
      '--dsse',
      'twice-env.json',
      '--keys',
      'twice.json',
      '--require-signers',
      'alice,mallory',
    ]);
    expectFailure(run, 2);
    expect(run.stdout + run.stderr).toMatch(/same key/);
    // One name each is fine, and two distinct keys still meet the rule.
    expectOk(
      await ck(['verify-dsse', '--dsse', 'twice-env.json', '--keys', 'twice.json', '--require-signers', 'mallory']),
    );
    const pair = await signEnvelope('application/vnd.in-toto+json', payload, [
      { manager, keyId: 'alice', keyid: 'alice' },
      { manager, keyId: 'bob', keyid: 'bob' },
    ]);
    writeFileSync(join(dir, 'pair-env.json'), serializeEnvelope(pair));
    expectOk(
      await ck(['verify-dsse', '--dsse', 'pair-env.json', '--keys', 'pair.json', '--require-signers', 'alice,bob']),
    );
  });
});
