import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DevStack, STACK_FILES, type StackInfo } from '@cosignkit/dev-stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cosign,
  cosignkit,
  cosignVerifiesKeyless,
  expectFailure,
  expectOk,
  listDir,
  PASSWORD,
  requireCosign,
  tempHome,
} from './helpers.js';

// The Sigstore services are @sigstore/mock served over real HTTP on loopback by @cosignkit/dev-stack, in this
// process: every CLI and cosign run below is an asynchronous child, so the stack keeps answering.
let stack: DevStack;
let info: StackInfo;
const home = tempHome();
const cwd = home.dir;
const trust = (name: keyof typeof STACK_FILES) => join(cwd, 'stack', STACK_FILES[name]);
// cosign 2.x trust for the stack, and a TUF_ROOT of its own so it never goes online.
const cosignEnv = () => ({
  TUF_ROOT: join(cwd, 'tuf'),
  SIGSTORE_ROOT_FILE: trust('fulcioRoot'),
  SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: trust('ctLogKey'),
  SIGSTORE_REKOR_PUBLIC_KEY: trust('rekorKey'),
});

beforeAll(async () => {
  requireCosign();
  stack = await DevStack.start();
  info = await stack.writeFiles(join(cwd, 'stack'));
  writeFileSync(join(cwd, 'blob.txt'), 'keyless on the local stack\n');
  writeFileSync(
    join(cwd, 'predicate.json'),
    '{"builder":{"id":"dev-stack"},"buildType":"https://example.com/dev-stack@v1"}',
  );
});

afterAll(async () => {
  await stack?.close();
  home.cleanup();
});

const keylessSign = (
  bundle: string,
  env: Record<string, string | undefined> = { SIGSTORE_ID_TOKEN: info.token },
  extra: string[] = [],
) =>
  cosignkit(
    [
      'sign-blob',
      '--signing-config',
      trust('signingConfig'),
      '--trusted-root',
      trust('trustedRoot'),
      '--bundle',
      bundle,
      ...extra,
      'blob.txt',
    ],
    { cwd, env },
  );

const verifyIdentity = (bundle: string, identity = info.identity) =>
  cosignkit(
    [
      'verify-blob',
      '--bundle',
      bundle,
      '--certificate-identity',
      identity,
      '--certificate-oidc-issuer',
      info.issuerUrl,
      '--trusted-root',
      trust('trustedRoot'),
      'blob.txt',
    ],
    { cwd },
  );

describe('keyless sign-blob on the local stack', () => {
  it('signs with SIGSTORE_ID_TOKEN and the signing config; our verify-blob and the real cosign verify it', async () => {
    const run = expectOk(await keylessSign('kb.json'));
    expect(run.stdout + run.stderr).not.toContain(info.token);
    const bundle = JSON.parse(readFileSync(join(cwd, 'kb.json'), 'utf8')) as Record<string, any>;
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.verificationMaterial.certificate.rawBytes).toBeTypeOf('string');
    expect(bundle.verificationMaterial.tlogEntries).toHaveLength(1);
    expect(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    expect(expectOk(await verifyIdentity('kb.json')).stdout).toContain('Verified OK');
    const wrong = await verifyIdentity('kb.json', 'mallory@example.com');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/mallory@example\.com.*\[VERIFICATION_FAILED\]/);
    expectOk(
      await cosignVerifiesKeyless(
        { trustedRoot: trust('trustedRoot'), identity: info.identity, issuer: info.issuerUrl },
        'kb.json',
        'blob.txt',
        cwd,
      ),
    );
  });

  it('takes the token from a file and from env:NAME, never from argv', async () => {
    writeFileSync(join(cwd, 'token'), info.token, { mode: 0o600 });
    expectOk(await keylessSign('kf.json', { SIGSTORE_ID_TOKEN: undefined }, ['--identity-token', 'token']));
    expectOk(
      await keylessSign('ke.json', { SIGSTORE_ID_TOKEN: undefined, MY_TOKEN: info.token }, [
        '--identity-token',
        'env:MY_TOKEN',
      ]),
    );
    const raw = await keylessSign('kr.json', { SIGSTORE_ID_TOKEN: undefined }, ['--identity-token', info.token]);
    expectFailure(raw, 1, 'USAGE');
    expect(raw.stderr).not.toContain(info.token);
    expect(existsSync(join(cwd, 'kr.json'))).toBe(false);
  });

  it("takes GitHub Actions' ambient token (the stack's Actions-style endpoint)", async () => {
    expectOk(
      await keylessSign('kg.json', {
        SIGSTORE_ID_TOKEN: undefined,
        ACTIONS_ID_TOKEN_REQUEST_URL: info.actionsTokenUrl,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: info.actionsRequestToken,
      }),
    );
    expectOk(await verifyIdentity('kg.json'));
  });

  it('the real cosign keyless-signs on the stack and cosignkit verifies it', async () => {
    expectOk(
      await cosign(
        [
          'sign-blob',
          '--new-bundle-format',
          '--fulcio-url',
          info.fulcioUrl,
          '--rekor-url',
          info.rekorUrl,
          '--identity-token',
          info.token,
          '--bundle',
          'cb.json',
          '--yes',
          'blob.txt',
        ],
        { cwd, env: cosignEnv() },
      ),
    );
    expect(expectOk(await verifyIdentity('cb.json')).stdout).toContain('Verified OK');
  });

  it('keyless attest-blob → verify-blob-attestation', async () => {
    expectOk(
      await cosignkit(
        [
          'attest-blob',
          '--signing-config',
          trust('signingConfig'),
          '--predicate',
          'predicate.json',
          '--type',
          'slsaprovenance',
          '--bundle',
          'ka.json',
          '--output-file',
          'ka.dsse',
          'blob.txt',
        ],
        { cwd, env: { SIGSTORE_ID_TOKEN: info.token } },
      ),
    );
    const bundle = JSON.parse(readFileSync(join(cwd, 'ka.json'), 'utf8')) as Record<string, any>;
    expect(bundle.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
    expectOk(
      await cosignkit(
        [
          'verify-blob-attestation',
          '--bundle',
          'ka.json',
          '--type',
          'slsaprovenance',
          '--certificate-identity',
          info.identity,
          '--certificate-oidc-issuer',
          info.issuerUrl,
          '--trusted-root',
          trust('trustedRoot'),
          'blob.txt',
        ],
        { cwd },
      ),
    );
    // Seed 003: the keyless DSSE bundle through verify-dsse's Sigstore mode and its statement policy.
    expectOk(
      await cosignkit(
        [
          'verify-dsse',
          '--sigstore-bundle',
          'ka.json',
          '--sigstore-identity',
          info.identity,
          '--sigstore-issuer',
          info.issuerUrl,
          '--trusted-root',
          trust('trustedRoot'),
          '--require-predicate-type',
          'slsaprovenance',
        ],
        { cwd },
      ),
    );
    expect(
      (
        await cosignkit(
          [
            'verify-dsse',
            '--sigstore-bundle',
            'ka.json',
            '--sigstore-identity',
            info.identity,
            '--sigstore-issuer',
            info.issuerUrl,
            '--trusted-root',
            trust('trustedRoot'),
            '--require-predicate-type',
            'spdxjson',
          ],
          { cwd },
        )
      ).code,
    ).toBe(2);
    expectOk(
      await cosign(
        [
          'verify-blob-attestation',
          '--new-bundle-format',
          '--trusted-root',
          trust('trustedRoot'),
          '--type',
          'slsaprovenance',
          '--certificate-identity',
          info.identity,
          '--certificate-oidc-issuer',
          info.issuerUrl,
          '--bundle',
          'ka.json',
          'blob.txt',
        ],
        { cwd, env: { TUF_ROOT: join(cwd, 'tuf') } },
      ),
    );
  });
});

describe('keyed sign-blob with --tlog-upload (S-4)', () => {
  it('uploads to Rekor; the bundle carries the entry, whose inclusion proof and SET the real cosign verifies', async () => {
    expectOk(await cosignkit(['generate-key-pair'], { cwd, env: { COSIGN_PASSWORD: PASSWORD } }));
    const before = listDir(cwd);
    expectOk(
      await cosignkit(
        [
          'sign-blob',
          '--key',
          'cosign.key',
          '--tlog-upload=true',
          '--rekor-url',
          info.rekorUrl,
          '--bundle',
          's4.json',
          'blob.txt',
        ],
        { cwd, env: { COSIGN_PASSWORD: PASSWORD } },
      ),
    );
    // S-4 writes only the bundle.
    expect(listDir(cwd)).toEqual([...before, 's4.json'].sort());
    const bundle = JSON.parse(readFileSync(join(cwd, 's4.json'), 'utf8')) as Record<string, any>;
    expect(bundle.verificationMaterial.publicKey.hint).toBeTypeOf('string');
    expect(bundle.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint.envelope).toContain(
      new URL(info.rekorUrl).host,
    );
    expectOk(
      await cosign(
        [
          'verify-blob',
          '--new-bundle-format',
          '--trusted-root',
          trust('trustedRoot'),
          '--key',
          'cosign.pub',
          '--bundle',
          's4.json',
          'blob.txt',
        ],
        { cwd, env: { TUF_ROOT: join(cwd, 'tuf') } },
      ),
    );
    // A log entry for another blob does not verify this one.
    writeFileSync(join(cwd, 'other.txt'), 'other\n');
    expect(
      (
        await cosign(
          [
            'verify-blob',
            '--new-bundle-format',
            '--trusted-root',
            trust('trustedRoot'),
            '--key',
            'cosign.pub',
            '--bundle',
            's4.json',
            'other.txt',
          ],
          { cwd, env: { TUF_ROOT: join(cwd, 'tuf') } },
        )
      ).code,
    ).not.toBe(0);
  });
});

describe('Rekor v2 (the signing config names the log as v2)', () => {
  it('keyless sign-blob writes a hashedrekord 0.0.2 entry and a timestamp; verify-blob verifies it', async () => {
    const run = expectOk(
      await cosignkit(
        [
          'sign-blob',
          '--signing-config',
          trust('signingConfigRekorV2'),
          '--trusted-root',
          trust('trustedRoot'),
          '--bundle',
          'v2.json',
          'blob.txt',
        ],
        { cwd, env: { SIGSTORE_ID_TOKEN: info.token } },
      ),
    );
    expect(run.stderr).toMatch(/Rekor v2 http:\/\/127\.0\.0\.1:\d+/);
    const bundle = JSON.parse(readFileSync(join(cwd, 'v2.json'), 'utf8')) as Record<string, any>;
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.2' });
    expect(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    expect(expectOk(await verifyIdentity('v2.json')).stdout).toContain('Verified OK');
  });
});

describe('keyless failures are clean: exit 1, one line, no bundle', () => {
  const tokenFromEndpoint = async (params: Record<string, string>) => {
    const answer = await fetch(`${info.issuerUrl}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
    });
    return ((await answer.json()) as { id_token: string }).id_token;
  };

  it('an expired token is refused before any request', async () => {
    const run = await keylessSign('x1.json', { SIGSTORE_ID_TOKEN: await tokenFromEndpoint({ ttl: '-120' }) });
    expectFailure(run, 1, 'IDENTITY_TOKEN');
    expect(run.stderr).toMatch(/expired/);
    expect(existsSync(join(cwd, 'x1.json'))).toBe(false);
  });

  it('Fulcio refuses a wrong-audience token', async () => {
    const token = await tokenFromEndpoint({ audience: 'not-sigstore' });
    const run = await keylessSign('x2.json', { SIGSTORE_ID_TOKEN: token });
    expectFailure(run, 1, 'IDENTITY_TOKEN');
    expect(run.stderr).toMatch(/Fulcio at http:\/\/127\.0\.0\.1:\d+ refused: 401/);
    expect(run.stderr).not.toContain(token);
    expect(existsSync(join(cwd, 'x2.json'))).toBe(false);
  });

  it('Rekor down', async () => {
    const run = await keylessSign('x3.json', undefined, ['--rekor-url', 'http://127.0.0.1:9']);
    expectFailure(run, 1, 'BACKEND_UNAVAILABLE');
    expect(run.stderr).toMatch(/Rekor at http:\/\/127\.0\.0\.1:9/);
    expect(existsSync(join(cwd, 'x3.json'))).toBe(false);
  });

  it('a timestamp authority whose certificate does not cover the time it stamps (its clock 400 days ahead)', async () => {
    const skewed = await DevStack.start({ tsaClockOffsetMs: 400 * 24 * 3600 * 1000 });
    try {
      const other = await skewed.writeFiles(join(cwd, 'skewed'));
      const run = await cosignkit(
        [
          'sign-blob',
          '--signing-config',
          join(cwd, 'skewed', STACK_FILES.signingConfig),
          '--trusted-root',
          join(cwd, 'skewed', STACK_FILES.trustedRoot),
          '--bundle',
          'x5.json',
          'blob.txt',
        ],
        { cwd, env: { SIGSTORE_ID_TOKEN: other.token } },
      );
      expectFailure(run, 1, 'BACKEND_FAILURE');
      expect(run.stderr).toMatch(
        /timestamp at \S+ does not verify against the trusted root: the TSA certificate is valid from/,
      );
      expect(existsSync(join(cwd, 'x5.json'))).toBe(false);
    } finally {
      await skewed.close();
    }
  });

  it('Fulcio refuses a token from an issuer it does not trust, and Fulcio down', async () => {
    const foreign = await DevStack.start();
    try {
      const token = await foreign.issueToken();
      const run = await keylessSign('x6.json', { SIGSTORE_ID_TOKEN: token });
      expectFailure(run, 1, 'IDENTITY_TOKEN');
      expect(run.stderr).toMatch(/Fulcio at http:\/\/127\.0\.0\.1:\d+ refused: 40[13]/);
      expect(run.stderr).not.toContain(token);
      expect(existsSync(join(cwd, 'x6.json'))).toBe(false);
    } finally {
      await foreign.close();
    }
    const down = await keylessSign('x7.json', undefined, ['--fulcio-url', 'http://127.0.0.1:9']);
    expectFailure(down, 1, 'BACKEND_UNAVAILABLE');
    expect(down.stderr).toMatch(/Fulcio at http:\/\/127\.0\.0\.1:9/);
    expect(existsSync(join(cwd, 'x7.json'))).toBe(false);
  });

  it('no token and no key', async () => {
    const run = await cosignkit(['sign-blob', '--bundle', 'x4.json', 'blob.txt'], {
      cwd,
      env: { SIGSTORE_ID_TOKEN: undefined },
    });
    expectFailure(run, 1, 'USAGE');
  });
});
