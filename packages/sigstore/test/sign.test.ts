import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CosignkitError } from '@cosignkit/core';
import { DevStack, type StackInfo } from '@cosignkit/dev-stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compileIdentityPolicy,
  createKeylessSigner,
  EphemeralCertificateKey,
  parseIdentityToken,
  parseTrustedRoot,
  resolveIdentityToken,
  resolveSigningServices,
  verifyBundle,
} from '../src/index.js';

// Fulcio, Rekor and the TSA are @sigstore/mock over real HTTP on loopback (@cosignkit/dev-stack).
let stack: DevStack;
let info: StackInfo;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cosignkit-sigstore-sign-'));
  stack = await DevStack.start();
  info = await stack.writeFiles(join(dir, 'stack'));
});
afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const codeOf = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
  } catch (error) {
    if (CosignkitError.isInstance(error)) return `${error.code}: ${error.message}`;
    throw error;
  }
  return 'no error';
};

describe('keyless signing with one certificate for many artifacts', () => {
  it('signs 20 digests concurrently under one Fulcio certificate; each bundle verifies for its own artifact only', async () => {
    const services = { fulcioUrl: info.fulcioUrl, rekorUrl: info.rekorUrl, tsaUrl: info.tsaUrl };
    const { signer } = createKeylessSigner({ services, getToken: async () => info.token });
    const artifacts = Array.from({ length: 20 }, () => randomBytes(64));
    const bundles = await Promise.all(artifacts.map((a) => signer.signDigest(createHash('sha256').update(a).digest())));
    const certificates = new Set(
      bundles.map((b) => (b.verificationMaterial as { certificate: { rawBytes: string } }).certificate.rawBytes),
    );
    expect(certificates.size).toBe(1);
    const trustedRoot = parseTrustedRoot(stack.trustedRoot(), 'dev stack').root;
    const policy = compileIdentityPolicy(
      { certificateIdentity: info.identity, certificateOidcIssuer: info.issuerUrl },
      { required: true },
    );
    for (const [i, bundle] of bundles.entries()) {
      expect(verifyBundle(bundle, { trustedRoot, policy, artifact: { bytes: artifacts[i]! } }).verified).toBe(true);
    }
    expect(verifyBundle(bundles[0], { trustedRoot, policy, artifact: { bytes: artifacts[1]! } }).verified).toBe(false);
  });

  it("signs while the certificate is in flight, with that certificate's key: requestSent() comes first, the bundle verifies", async () => {
    const key = new EphemeralCertificateKey({ fulcioUrl: info.fulcioUrl, getToken: async () => info.token });
    let landed = false;
    const certificate = key.material().then(() => {
      landed = true;
    });
    await key.requestSent();
    expect(landed).toBe(false);
    const services = { fulcioUrl: info.fulcioUrl, rekorUrl: info.rekorUrl };
    const { signer } = createKeylessSigner({ services, getToken: async () => info.token, key });
    const artifact = randomBytes(64);
    const bundle = await signer.signDigest(createHash('sha256').update(artifact).digest());
    await certificate;
    const trustedRoot = parseTrustedRoot(stack.trustedRoot(), 'dev stack').root;
    const policy = compileIdentityPolicy(
      { certificateIdentity: info.identity, certificateOidcIssuer: info.issuerUrl },
      { required: true },
    );
    expect(verifyBundle(bundle, { trustedRoot, policy, artifact: { bytes: artifact } }).verified).toBe(true);
    // A refused certificate: the signature made meanwhile goes nowhere, the error is Fulcio's.
    const otherAudience = await stack.issueToken({ audience: 'other' });
    const refused = new EphemeralCertificateKey({ fulcioUrl: info.fulcioUrl, getToken: async () => otherAudience });
    const refusing = refused.material();
    await refused.requestSent();
    const refusedSigner = createKeylessSigner({ services, getToken: async () => otherAudience, key: refused }).signer;
    expect(await codeOf(refusedSigner.signDigest(createHash('sha256').update(artifact).digest()))).toMatch(
      /^IDENTITY_TOKEN: Fulcio at .* refused: 401/,
    );
    expect(await codeOf(refusing)).toMatch(/^IDENTITY_TOKEN: Fulcio at .* refused: 401/);
  });

  it('a DSSE bundle whose Rekor dsse entry and timestamp verify', async () => {
    const { signer } = createKeylessSigner({
      services: { fulcioUrl: info.fulcioUrl, rekorUrl: info.rekorUrl, tsaUrl: info.tsaUrl },
      getToken: async () => info.token,
    });
    const statement = Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'a', digest: { sha256: 'ab'.repeat(32) } }],
        predicateType: 'https://example.com/p',
        predicate: {},
      }),
    );
    const bundle = await signer.signDsse('application/vnd.in-toto+json', statement);
    const trustedRoot = parseTrustedRoot(stack.trustedRoot(), 'dev stack').root;
    const policy = compileIdentityPolicy(
      { certificateIdentity: info.identity, certificateOidcIssuer: info.issuerUrl },
      { required: true },
    );
    const result = verifyBundle(bundle, { trustedRoot, policy, useSignedTimestamps: true });
    expect(result.failures).toEqual([]);
    expect(result.verified).toBe(true);
  });

  it("Rekor v2 (the dev stack log's /api/v2 on @sigstore/mock): hashedrekord and dsse 0.0.2 entries with a timestamp verify", async () => {
    const { signer } = createKeylessSigner({
      services: { fulcioUrl: info.fulcioUrl, rekorUrl: info.rekorUrl, rekorApiVersion: 2, tsaUrl: info.tsaUrl },
      getToken: async () => info.token,
    });
    const trustedRoot = parseTrustedRoot(stack.trustedRoot(), 'dev stack').root;
    const policy = compileIdentityPolicy(
      { certificateIdentity: info.identity, certificateOidcIssuer: info.issuerUrl },
      { required: true },
    );
    const artifact = randomBytes(100);
    const message = await signer.signDigest(createHash('sha256').update(artifact).digest());
    const entry = (
      message.verificationMaterial as { tlogEntries: { kindVersion: unknown; inclusionPromise?: unknown }[] }
    ).tlogEntries[0]!;
    expect(entry.kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.2' });
    expect(entry.inclusionPromise).toBeUndefined();
    const verified = verifyBundle(message, { trustedRoot, policy, artifact: { bytes: artifact } });
    expect(verified.failures).toEqual([]);
    expect(verified.verified).toBe(true);
    expect(verifyBundle(message, { trustedRoot, policy, artifact: { bytes: randomBytes(100) } }).verified).toBe(false);
    const dsse = await signer.signDsse('application/vnd.in-toto+json', Buffer.from('{"_type":"x"}'));
    expect(
      (dsse.verificationMaterial as { tlogEntries: { kindVersion: unknown }[] }).tlogEntries[0]!.kindVersion,
    ).toEqual({ kind: 'dsse', version: '0.0.2' });
    expect(verifyBundle(dsse, { trustedRoot, policy }).failures).toEqual([]);
  });

  it('Fulcio refusing and Rekor down become one-line CosignkitErrors without the token', async () => {
    const expiredSoon = await stack.issueToken({ audience: 'other' });
    const refused = await codeOf(
      createKeylessSigner({
        services: { fulcioUrl: info.fulcioUrl, rekorUrl: info.rekorUrl },
        getToken: async () => expiredSoon,
      }).signer.signDigest(Buffer.alloc(32)),
    );
    expect(refused).toMatch(/^IDENTITY_TOKEN: Fulcio at .* refused: 401/);
    expect(refused).not.toContain(expiredSoon);
    const down = await codeOf(
      createKeylessSigner({
        services: { fulcioUrl: info.fulcioUrl, rekorUrl: 'http://127.0.0.1:9' },
        getToken: async () => info.token,
        retries: 0,
      }).signer.signDigest(Buffer.alloc(32)),
    );
    expect(down).toMatch(/^BACKEND_UNAVAILABLE: cannot reach Rekor at http:\/\/127\.0\.0\.1:9/);
    expect(down.split('\n')).toHaveLength(1);
  });
});

describe('signing services', () => {
  const configPath = () => join(dir, 'stack', 'signing_config.json');

  it('takes the CA, the Rekor v1 log and the TSA from a signing config; flags override; --tlog-upload=false drops the log', async () => {
    expect(await resolveSigningServices({ keyless: true, signingConfigPath: configPath() })).toEqual({
      fulcioUrl: info.fulcioUrl,
      rekorUrl: info.rekorUrl,
      tsaUrl: info.tsaUrl,
    });
    expect(await resolveSigningServices({ keyless: true, signingConfigPath: configPath(), tlogUpload: false })).toEqual(
      { fulcioUrl: info.fulcioUrl, tsaUrl: info.tsaUrl },
    );
    expect(
      await resolveSigningServices({
        keyless: false,
        signingConfigPath: configPath(),
        rekorUrl: 'http://127.0.0.1:1/',
      }),
    ).toEqual({ rekorUrl: 'http://127.0.0.1:1', tsaUrl: info.tsaUrl });
    expect(await resolveSigningServices({ keyless: true })).toEqual({
      fulcioUrl: 'https://fulcio.sigstore.dev',
      rekorUrl: 'https://rekor.sigstore.dev',
    });
  });

  it('refuses keyless without a log or a timestamp, a Rekor v2 log without a TSA, and a non-config file; picks Rekor v2 first', async () => {
    expect(await codeOf(resolveSigningServices({ keyless: true, tlogUpload: false }))).toMatch(
      /^USAGE: keyless signing needs a transparency log or a timestamp authority/,
    );
    const v2 = join(dir, 'v2.json');
    writeFileSync(
      v2,
      JSON.stringify({
        ...stack.signingConfig(),
        rekorTlogUrls: [
          {
            url: 'https://log2025-1.rekor.sigstore.dev',
            majorApiVersion: 2,
            validFor: { start: '2025-01-01T00:00:00Z' },
          },
        ],
      }),
    );
    expect(await resolveSigningServices({ keyless: true, signingConfigPath: v2 })).toMatchObject({
      rekorUrl: 'https://log2025-1.rekor.sigstore.dev',
      rekorApiVersion: 2,
      tsaUrl: stack.tsaUrl,
    });
    // --rekor-url is cosign's v1 flag: it names a v1 log.
    expect(
      await resolveSigningServices({ keyless: true, signingConfigPath: v2, rekorUrl: 'http://127.0.0.1:1' }),
    ).not.toHaveProperty('rekorApiVersion');
    const v2NoTsa = join(dir, 'v2-no-tsa.json');
    writeFileSync(v2NoTsa, JSON.stringify({ ...JSON.parse(readFileSync(v2, 'utf8')), tsaUrls: [] }));
    expect(await codeOf(resolveSigningServices({ keyless: true, signingConfigPath: v2NoTsa }))).toMatch(
      /^USAGE: keyless signing with a Rekor v2 log needs a timestamp authority/,
    );
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"mediaType":"something else"}');
    expect(await codeOf(resolveSigningServices({ keyless: true, signingConfigPath: bad }))).toMatch(
      /^BUNDLE_MALFORMED/,
    );
  });
});

describe('identity tokens', () => {
  it('from --identity-token FILE, env:NAME and SIGSTORE_ID_TOKEN, in that order', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${info.token}\n`);
    expect((await resolveIdentityToken({ identityToken: file, env: {} }))?.source).toBe(`file ${file}`);
    expect(
      (await resolveIdentityToken({ identityToken: 'env:T', env: { T: info.token, SIGSTORE_ID_TOKEN: 'x' } }))?.source,
    ).toBe('$T');
    const fromEnv = await resolveIdentityToken({ env: { SIGSTORE_ID_TOKEN: info.token } });
    expect(fromEnv?.claims).toMatchObject({ issuer: info.issuerUrl, subject: info.identity, audience: ['sigstore'] });
    expect(await resolveIdentityToken({ env: {} })).toBeUndefined();
  });

  it("from GitHub Actions' ambient endpoint, with the request token as bearer", async () => {
    const env = {
      ACTIONS_ID_TOKEN_REQUEST_URL: info.actionsTokenUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: info.actionsRequestToken,
    };
    const found = await resolveIdentityToken({ env });
    expect(found?.claims.subject).toBe(info.identity);
    expect(await codeOf(resolveIdentityToken({ env: { ...env, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong' } }))).toMatch(
      /^IDENTITY_TOKEN: .* answered 401/,
    );
  });

  it('refuses a token in argv without echoing it, an expired token and a non-JWT', async () => {
    const refused = await codeOf(resolveIdentityToken({ identityToken: info.token, env: {} }));
    expect(refused).toMatch(/^USAGE: --identity-token takes a file or env:NAME/);
    expect(refused).not.toContain(info.token);
    const expired = await stack.issueToken({ ttlSeconds: -30 });
    expect(await codeOf(resolveIdentityToken({ env: { SIGSTORE_ID_TOKEN: expired } }))).toMatch(
      /^IDENTITY_TOKEN: .* expired at/,
    );
    expect(() => parseIdentityToken('not a token')).toThrow(/not a JWT/);
  });
});
