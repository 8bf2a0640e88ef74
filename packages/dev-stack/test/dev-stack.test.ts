import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, sign as signData } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { SigningConfig, TrustedRoot } from '@sigstore/protobuf-specs';
import {
  bundleBuilderFromSigningConfig,
  DSSEBundleBuilder,
  FulcioSigner,
  RekorWitness,
  TSAWitness,
} from '@sigstore/sign';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DevStack, STACK_FILES, type StackInfo } from '../src/index.js';

const COSIGN = fileURLToPath(new URL('../../../.tools/cosign/usr/bin/cosign', import.meta.url));

let stack: DevStack;
let dir: string;
let info: StackInfo;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cosignkit-dev-stack-'));
  stack = await DevStack.start();
  info = await stack.writeFiles(join(dir, 'stack'));
});

afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

function verifier(): Verifier {
  const root = TrustedRoot.fromJSON(JSON.parse(readFileSync(join(dir, 'stack', STACK_FILES.trustedRoot), 'utf8')));
  return new Verifier(toTrustMaterial(root), { tlogThreshold: 1, ctlogThreshold: 1, tsaThreshold: 1 });
}

const policy = () => ({ subjectAlternativeName: info.identity, extensions: { issuer: info.issuerUrl } });

describe('dev stack files', () => {
  it('writes stack.json (0600, a token for the identity from the issuer) and parseable trust material', () => {
    const file = join(dir, 'stack', STACK_FILES.stack);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const written = JSON.parse(readFileSync(file, 'utf8')) as StackInfo;
    for (const key of ['fulcioUrl', 'rekorUrl', 'tsaUrl', 'issuerUrl'] as const)
      expect(written[key]).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    const claims = JSON.parse(Buffer.from(written.token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    expect(claims).toMatchObject({
      iss: written.issuerUrl,
      sub: written.identity,
      email: written.identity,
      aud: 'sigstore',
    });
    const config = SigningConfig.fromJSON(
      JSON.parse(readFileSync(join(dir, 'stack', STACK_FILES.signingConfig), 'utf8')),
    );
    expect(config.caUrls[0]!.url).toBe(written.fulcioUrl);
    expect(config.rekorTlogUrls[0]!.url).toBe(written.rekorUrl);
    expect(config.tsaUrls[0]!.url).toBe(written.tsaUrl);
    const root = TrustedRoot.fromJSON(JSON.parse(readFileSync(join(dir, 'stack', STACK_FILES.trustedRoot), 'utf8')));
    const rekorKey = Buffer.from(root.tlogs[0]!.publicKey!.rawBytes!);
    expect(Buffer.from(root.tlogs[0]!.logId!.keyId).toString('hex')).toBe(
      createHash('sha256').update(rekorKey).digest('hex'),
    );
    expect(root.tlogs[0]!.publicKey!.validFor!.start!.getTime()).toBeLessThan(Date.now());
  });

  it('serves OIDC discovery and a JWKS, and the Actions-style endpoint only with its bearer', async () => {
    const discovery = (await (await fetch(`${info.issuerUrl}/.well-known/openid-configuration`)).json()) as Record<
      string,
      string
    >;
    expect(discovery.issuer).toBe(info.issuerUrl);
    const jwks = (await (await fetch(discovery.jwks_uri!)).json()) as { keys: unknown[] };
    expect(jwks.keys).toHaveLength(1);
    expect(
      (await fetch(`${info.actionsTokenUrl}?audience=sigstore`, { headers: { authorization: 'Bearer wrong' } })).status,
    ).toBe(401);
    const answer = await fetch(`${info.actionsTokenUrl}?audience=sigstore`, {
      headers: { authorization: `Bearer ${info.actionsRequestToken}` },
    });
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { value: string }).value.split('.')).toHaveLength(3);
  });
});

describe("the issuer's interactive grants", () => {
  const token = (params: Record<string, string>) =>
    fetch(`${info.issuerUrl}/token`, { method: 'POST', body: new URLSearchParams(params) });
  const claimsOf = (jwt: string) =>
    JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

  it('authorization code with PKCE: a loopback redirect only, the verifier checked, the code used once', async () => {
    const verifier = 'v'.repeat(50);
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const redirect = 'http://127.0.0.1:1/cb';
    const authorize = (extra: Record<string, string>) =>
      fetch(
        `${info.issuerUrl}/authorize?${new URLSearchParams({
          response_type: 'code',
          client_id: 'sigstore',
          redirect_uri: redirect,
          state: 'st',
          nonce: 'n0',
          code_challenge: challenge,
          code_challenge_method: 'S256',
          ...extra,
        })}`,
        { redirect: 'manual' },
      );
    expect((await authorize({ redirect_uri: 'http://example.com/cb' })).status).toBe(400);
    const plain = new URL((await authorize({ code_challenge_method: 'plain' })).headers.get('location')!);
    expect(plain.searchParams.get('error')).toBe('invalid_request');
    const answer = await authorize({});
    expect(answer.status).toBe(302);
    const back = new URL(answer.headers.get('location')!);
    expect(back.searchParams.get('state')).toBe('st');
    const code = back.searchParams.get('code')!;
    const grant = { grant_type: 'authorization_code', code, redirect_uri: redirect, client_id: 'sigstore' };
    expect((await token({ ...grant, code_verifier: 'w'.repeat(50) })).status).toBe(400);
    // The failed attempt used the code up: a code is single-use whatever happens.
    expect((await token({ ...grant, code_verifier: verifier })).status).toBe(400);
    const again = new URL((await authorize({})).headers.get('location')!).searchParams.get('code')!;
    const good = await token({ ...grant, code: again, code_verifier: verifier });
    expect(good.status).toBe(200);
    const claims = claimsOf(((await good.json()) as { id_token: string }).id_token);
    expect(claims).toMatchObject({ iss: info.issuerUrl, aud: 'sigstore', nonce: 'n0', email: info.identity });
    expect((await token({ ...grant, code: again, code_verifier: verifier })).status).toBe(400);
  });

  it('device flow: pending until the user code is approved, then one token', async () => {
    const started = (await (
      await fetch(`${info.issuerUrl}/device/code`, {
        method: 'POST',
        body: new URLSearchParams({ client_id: 'sigstore', scope: 'openid email' }),
      })
    ).json()) as { device_code: string; user_code: string; verification_uri_complete: string };
    const grant = {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: started.device_code,
      client_id: 'sigstore',
    };
    const pending = await token(grant);
    expect(pending.status).toBe(400);
    expect(((await pending.json()) as { error: string }).error).toBe('authorization_pending');
    expect((await fetch(`${info.issuerUrl}/device?user_code=NOPE-NOPE`)).status).toBe(404);
    expect((await fetch(started.verification_uri_complete)).status).toBe(200);
    const done = await token(grant);
    expect(done.status).toBe(200);
    expect(claimsOf(((await done.json()) as { id_token: string }).id_token).sub).toBe(info.identity);
    expect((await token(grant)).status).toBe(400);
  });
});

describe('sigstore-js signs on the stack, @sigstore/verify verifies with its trusted root', () => {
  it('message signature per the signing config: Fulcio certificate, Rekor entry and an RFC 3161 timestamp', async () => {
    const config = SigningConfig.fromJSON(
      JSON.parse(readFileSync(join(dir, 'stack', STACK_FILES.signingConfig), 'utf8')),
    );
    const builder = bundleBuilderFromSigningConfig({
      signingConfig: config,
      identityProvider: { getToken: async () => info.token },
      bundleType: 'messageSignature',
    });
    const artifact = Buffer.from('hello dev stack');
    const bundle = await builder.create({ data: artifact });
    expect(bundle.verificationMaterial.tlogEntries).toHaveLength(1);
    expect(bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps).toHaveLength(1);
    const signer = verifier().verify(toSignedEntity(bundleFromJSON(bundleToJSON(bundle)), artifact), policy());
    expect(signer.identity?.subjectAlternativeName).toBe(info.identity);
    expect(() => verifier().verify(toSignedEntity(bundle, Buffer.from('tampered')), policy())).toThrow();
  });

  it('DSSE: the Rekor entry is rewritten as real Rekor does, so the log body check passes', async () => {
    const builder = new DSSEBundleBuilder({
      signer: new FulcioSigner({
        fulcioBaseURL: info.fulcioUrl,
        identityProvider: { getToken: async () => info.token },
      }),
      witnesses: [
        new RekorWitness({ rekorBaseURL: info.rekorUrl, entryType: 'dsse' }),
        new TSAWitness({ tsaBaseURL: info.tsaUrl }),
      ],
    });
    const statement = Buffer.from(
      JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: 'x' }),
    );
    const bundle = await builder.create({ data: statement, type: 'application/vnd.in-toto+json' });
    const body = JSON.parse(
      Buffer.from(bundle.verificationMaterial.tlogEntries[0]!.canonicalizedBody).toString('utf8'),
    ) as { spec: Record<string, unknown> };
    expect(Object.keys(body.spec).sort()).toEqual(['envelopeHash', 'payloadHash', 'signatures']);
    verifier().verify(toSignedEntity(bundle), policy());
  });
});

describe('Fulcio refuses what real Fulcio refuses', () => {
  const request = async (token: string, proofSubject?: string) => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const proof = signData('sha256', Buffer.from(proofSubject ?? info.identity), privateKey).toString('base64');
    return fetch(`${info.fulcioUrl}/api/v2/signingCert`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        credentials: { oidcIdentityToken: token },
        publicKeyRequest: { publicKey: { algorithm: 'ECDSA', content: pem }, proofOfPossession: proof },
      }),
    });
  };
  const tokenFromEndpoint = async (params: Record<string, string>) => {
    const answer = await fetch(`${info.issuerUrl}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
    });
    return ((await answer.json()) as { id_token: string }).id_token;
  };

  it('issues a certificate for a good token and proof', async () => {
    expect((await request(info.token)).status).toBe(201);
  });

  it('refuses an expired token, a wrong audience, a foreign signature and a bad proof of possession', async () => {
    const expired = await request(await tokenFromEndpoint({ ttl: '-120' }));
    expect(expired.status).toBe(401);
    expect(await expired.text()).toMatch(/exp/);
    expect((await request(await tokenFromEndpoint({ audience: 'not-sigstore' }))).status).toBe(401);
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ email: info.identity, email_verified: true })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(info.issuerUrl)
      .setSubject(info.identity)
      .setAudience('sigstore')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    expect((await request(forged)).status).toBe(401);
    expect((await request(info.token, 'someone-else@example.com')).status).toBe(400);
  });
});

describe('the real cosign keyless-signs on the stack and verifies', () => {
  // Asynchronous on purpose: the stack answers from this process's event loop.
  const cosign = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ status: number; stderr: string }>((resolve) => {
      execFile(
        COSIGN,
        args,
        {
          cwd: dir,
          timeout: 60_000,
          env: { PATH: process.env.PATH ?? '', HOME: dir, TUF_ROOT: join(dir, 'tuf'), ...env },
        },
        (error, _stdout, stderr) =>
          resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr }),
      );
    });

  it.skipIf(!existsSync(COSIGN))(
    'sign-blob (Fulcio v1 API, Rekor) with SIGSTORE_* trust; verify-blob with --trusted-root',
    async () => {
      const blob = join(dir, 'blob.txt');
      writeFileSync(blob, 'signed by cosign on the dev stack\n');
      const trustEnv = {
        SIGSTORE_ROOT_FILE: join(dir, 'stack', STACK_FILES.fulcioRoot),
        SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: join(dir, 'stack', STACK_FILES.ctLogKey),
        SIGSTORE_REKOR_PUBLIC_KEY: join(dir, 'stack', STACK_FILES.rekorKey),
      };
      const signed = await cosign(
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
          'b.json',
          '--yes',
          blob,
        ],
        trustEnv,
      );
      expect(signed.status, signed.stderr).toBe(0);
      const verifyArgs = (identity: string) => [
        'verify-blob',
        '--new-bundle-format',
        '--trusted-root',
        join(dir, 'stack', STACK_FILES.trustedRoot),
        '--certificate-identity',
        identity,
        '--certificate-oidc-issuer',
        info.issuerUrl,
        '--bundle',
        'b.json',
        blob,
      ];
      const verified = await cosign(verifyArgs(info.identity));
      expect(verified.status, verified.stderr).toBe(0);
      expect((await cosign(verifyArgs('someone-else@example.com'))).status).not.toBe(0);
      // And @sigstore/verify agrees with cosign about cosign's bundle.
      const bundle = bundleFromJSON(JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')));
      new Verifier(
        toTrustMaterial(
          TrustedRoot.fromJSON(JSON.parse(readFileSync(join(dir, 'stack', STACK_FILES.trustedRoot), 'utf8'))),
        ),
        { tsaThreshold: 0 },
      ).verify(toSignedEntity(bundle, readFileSync(blob)), policy());
    },
  );
});
