import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { generateKeyPair, generateProof } from 'dpop';
import { verifyLog } from '@cosignkit/dsse';
import { DevIssuer, SIGN_ROUTE, type SignerClient } from '../src/index.js';
import { DEV_AUDIENCE, DEV_TENANT } from '../src/dev/dev-environment.js';
import { signBody, startServer, type Running } from './harness.js';

let s: Running;
const statuses: { name: string; status: number; auditId: string }[] = [];

beforeAll(async () => {
  s = await startServer((c) => {
    c.entitlement.clientVersion = { min: '1.0.0', max: '2.0.0' };
    c.plans.dev.maxSubjects = 3;
    c.plans.dev.maxPredicateBytes = 2048;
    c.plans.tiny = { qps: 2, concurrency: 4, maxSubjects: 3, maxPredicateBytes: 2048 };
    c.maxBodyBytes = 64 * 1024;
  });
});
afterAll(async () => {
  await s?.close();
});

const opTokClaims = (extra: Record<string, unknown> = {}) => ({
  sub: 'ci-job',
  aud: DEV_AUDIENCE,
  scope: 'signer.sign',
  tenant: DEV_TENANT,
  cnf: { 'x5t#S256': s.env.clientThumbprint },
  ...extra,
});

async function expectRefused(
  name: string,
  client: SignerClient,
  status: number,
  slug: string,
  body: unknown = signBody(s.env),
  headers: Record<string, string> = {},
) {
  const res = await client.request('POST', SIGN_ROUTE, body, headers);
  expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = res.body as Record<string, unknown>;
  expect(problem.type).toBe(`https://cosignkit.dev/problems/${slug}`);
  expect(problem.status).toBe(status);
  expect(JSON.stringify(problem)).not.toMatch(/at .*\.(ts|js):\d+|eyJ/); // no stack, no token
  statuses.push({ name, status, auditId: problem.auditId as string });
  return res;
}

describe('OpTok', () => {
  it('accepts a valid mTLS-bound token and client version in the window', async () => {
    const res = await (await s.client({ clientVersion: '1.5.0' })).request('POST', SIGN_ROUTE, signBody(s.env));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });
  it('401 without a token', async () => {
    const c = await s.client({ clientVersion: '1.5.0' });
    const res = await c.request('POST', SIGN_ROUTE, signBody(s.env), { authorization: '' });
    expect(res.status).toBe(401);
  });
  it('401 for a token signed by an unknown key', async () => {
    const rogue = await DevIssuer.create(s.env.authority.issuer);
    await expectRefused(
      'bad-signature',
      await s.client({ clientVersion: '1.5.0', token: await rogue.issue(opTokClaims()) }),
      401,
      'invalid-token',
    );
  });
  it('401 for an expired token', async () => {
    const token = await s.env.authority.issue(
      opTokClaims({ exp: Math.floor(Date.now() / 1000) - 60, iat: Math.floor(Date.now() / 1000) - 3600 }),
    );
    const res = await expectRefused('expired', await s.client({ clientVersion: '1.5.0', token }), 401, 'invalid-token');
    expect((res.body as any).detail).toMatch(/expired/);
    expect(res.headers['www-authenticate']).toMatch(/invalid_token/);
  });
  it('401 for the wrong audience', async () => {
    await expectRefused(
      'audience',
      await s.client({
        clientVersion: '1.5.0',
        token: await s.env.authority.issue(opTokClaims({ aud: 'another-service' })),
      }),
      401,
      'invalid-token',
    );
  });
  it('403 for the wrong scope', async () => {
    await expectRefused(
      'scope',
      await s.client({
        clientVersion: '1.5.0',
        token: await s.env.authority.issue(opTokClaims({ scope: 'signer.verify' })),
      }),
      403,
      'insufficient-scope',
    );
  });
  it('403 for the wrong tenant', async () => {
    await expectRefused(
      'tenant',
      await s.client({
        clientVersion: '1.5.0',
        token: await s.env.authority.issue(opTokClaims({ tenant: 'other-tenant' })),
      }),
      403,
      'wrong-tenant',
    );
  });
  it('401 for an unbound bearer token', async () => {
    await expectRefused(
      'unbound',
      await s.client({ clientVersion: '1.5.0', token: await s.env.authority.issue(opTokClaims({ cnf: undefined })) }),
      401,
      'invalid-token',
    );
  });
  it('401 when the token is bound to another certificate, or no certificate is presented', async () => {
    const other = await s.env.authority.issue(opTokClaims({ cnf: { 'x5t#S256': 'A'.repeat(43) } }));
    await expectRefused(
      'mtls-mismatch',
      await s.client({ clientVersion: '1.5.0', token: other }),
      401,
      'invalid-token',
    );
    const noCert = await s.client({ clientVersion: '1.5.0', cert: undefined, key: undefined });
    const res = await expectRefused(
      'mtls-missing',
      noCert,
      401,
      'invalid-token',
      signBody(s.env, { poe: { format: 'jwt', value: s.env.poe } }),
    );
    expect((res.body as any).detail).toMatch(/client certificate/);
  });
});

describe('DPoP', () => {
  it('accepts a DPoP-bound token with a fresh proof; refuses missing, wrong, replayed and foreign-key proofs', async () => {
    const key = await generateKeyPair('ES256');
    const jkt = await calculateJwkThumbprint(await exportJWK(key.publicKey));
    const token = await s.env.authority.issue(opTokClaims({ cnf: { jkt } }));
    const dpopClient = await s.client({ clientVersion: '1.5.0', token, dpopKey: key });
    const ok = await dpopClient.request('POST', SIGN_ROUTE, signBody(s.env));
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);

    const plain = await s.client({ clientVersion: '1.5.0', token });
    // DPoP scheme without a proof
    await expectRefused('dpop-missing', plain, 401, 'invalid-token', signBody(s.env), {
      authorization: `DPoP ${token}`,
    });
    // Bearer scheme for a DPoP-bound token
    await expectRefused('dpop-bearer', plain, 401, 'invalid-token');
    const url = `${s.url}${SIGN_ROUTE}`;
    const wrongUrl = await generateProof(key, `${s.url}/elsewhere`, 'POST', undefined, token);
    await expectRefused('dpop-url', plain, 401, 'invalid-token', signBody(s.env), {
      authorization: `DPoP ${token}`,
      dpop: wrongUrl,
    });
    const wrongMethod = await generateProof(key, url, 'GET', undefined, token);
    await expectRefused('dpop-method', plain, 401, 'invalid-token', signBody(s.env), {
      authorization: `DPoP ${token}`,
      dpop: wrongMethod,
    });
    const otherKey = await generateKeyPair('ES256');
    const foreign = await generateProof(otherKey, url, 'POST', undefined, token);
    await expectRefused('dpop-key', plain, 401, 'invalid-token', signBody(s.env), {
      authorization: `DPoP ${token}`,
      dpop: foreign,
    });
    const noAth = await generateProof(key, url, 'POST');
    await expectRefused('dpop-ath', plain, 401, 'invalid-token', signBody(s.env), {
      authorization: `DPoP ${token}`,
      dpop: noAth,
    });
    const once = await generateProof(key, url, 'POST', undefined, token);
    const first = await plain.request('POST', SIGN_ROUTE, signBody(s.env), {
      authorization: `DPoP ${token}`,
      dpop: once,
    });
    expect(first.status).toBe(200);
    const replay = await expectRefused('dpop-replay', plain, 401, 'invalid-token', signBody(s.env), {
      authorization: `DPoP ${token}`,
      dpop: once,
    });
    expect((replay.body as any).detail).toMatch(/replay/);
    expect(replay.headers['www-authenticate']).toMatch(/invalid_dpop_proof/);
  });
});

describe('Proof of entitlement', () => {
  it('403 for an expired licence, an unknown plan, another tenant, a forged licence', async () => {
    const c = await s.client({ clientVersion: '1.5.0' });
    const past = Math.floor(Date.now() / 1000) - 10;
    const expired = await s.env.licensing.issue({ sub: DEV_TENANT, plan: 'dev', exp: past, iat: past - 3600 });
    const res = await expectRefused(
      'poe-expired',
      c,
      403,
      'entitlement-refused',
      signBody(s.env, { poe: { format: 'jwt', value: expired } }),
    );
    expect((res.body as any).detail).toMatch(/expired/);
    const gold = await s.env.licensing.issue({ sub: DEV_TENANT, plan: 'gold' });
    await expectRefused(
      'poe-plan',
      c,
      403,
      'entitlement-refused',
      signBody(s.env, { poe: { format: 'jwt', value: gold } }),
    );
    const other = await s.env.licensing.issue({ sub: 'other-tenant', plan: 'dev' });
    await expectRefused(
      'poe-tenant',
      c,
      403,
      'entitlement-refused',
      signBody(s.env, { poe: { format: 'jwt', value: other } }),
    );
    const forged = await s.env.authority.issue({ sub: DEV_TENANT, plan: 'dev' });
    await expectRefused(
      'poe-forged',
      c,
      403,
      'entitlement-refused',
      signBody(s.env, { poe: { format: 'jwt', value: forged } }),
    );
  });
  it('403 for a client version outside the window or missing', async () => {
    await expectRefused('version-missing', await s.client(), 403, 'client-version');
    await expectRefused('version-new', await s.client({ clientVersion: '2.0.0' }), 403, 'client-version');
    await expectRefused('version-old', await s.client({ clientVersion: '0.9.9' }), 403, 'client-version');
  });
  it('accepts the client certificate as PoE (mtls format: plan from OU, tenant from O)', async () => {
    const c = await s.client({ clientVersion: '1.5.0' });
    const ok = await c.request(
      'POST',
      SIGN_ROUTE,
      signBody(s.env, { poe: { format: 'mtls', value: s.env.clientThumbprint } }),
    );
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((ok.body as any).quota.plan).toBe('dev');
    await expectRefused(
      'poe-mtls-wrong',
      c,
      403,
      'entitlement-refused',
      signBody(s.env, { poe: { format: 'mtls', value: 'B'.repeat(43) } }),
    );
  });
});

describe('plan limits and request rules', () => {
  it('429 with Retry-After over the QPS quota', async () => {
    const c = await s.client({ clientVersion: '1.5.0' });
    const tiny = await s.env.licensing.issue({ sub: DEV_TENANT, plan: 'tiny' });
    const body = signBody(s.env, { poe: { format: 'jwt', value: tiny } });
    const results = await Promise.all(Array.from({ length: 5 }, () => c.request('POST', SIGN_ROUTE, body)));
    const codes = results.map((r) => r.status).sort();
    expect(codes.filter((x) => x === 200)).toHaveLength(2);
    const limited = results.find((r) => r.status === 429)!;
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((limited.body as any).type).toBe('https://cosignkit.dev/problems/over-quota');
    statuses.push({ name: 'qps', status: 429, auditId: (limited.body as any).auditId });
  });
  it('413 for a body, a subject list or a predicate too large', async () => {
    const c = await s.client({ clientVersion: '1.5.0' });
    await expectRefused(
      'body-size',
      c,
      413,
      'too-large',
      signBody(s.env, { predicate: { blob: 'x'.repeat(100 * 1024) } }),
    );
    const subjects = Array.from({ length: 4 }, (_, i) => ({ name: `f${i}`, digest: { sha256: 'c'.repeat(64) } }));
    await expectRefused('subjects', c, 413, 'too-large', signBody(s.env, { subject: subjects }));
    await expectRefused(
      'predicate-size',
      c,
      413,
      'too-large',
      signBody(s.env, { predicate: { blob: 'x'.repeat(4096) } }),
    );
  });
  it('403 for a predicate type not on the allow-list', async () => {
    await expectRefused(
      'predicate-type',
      await s.client({ clientVersion: '1.5.0' }),
      403,
      'predicate-type-not-allowed',
      signBody(s.env, { predicateType: 'https://evil.example/anything' }),
    );
  });
  it('400 for malformed JSON, a bad digest, and keyless mode (not configured)', async () => {
    const c = await s.client({ clientVersion: '1.5.0' });
    await expectRefused('json', c, 400, 'malformed-request', '{"subject": [');
    await expectRefused(
      'digest',
      c,
      400,
      'malformed-request',
      signBody(s.env, { subject: [{ name: 'x', digest: { sha256: 'zz' } }] }),
    );
    const res = await expectRefused(
      'keyless',
      c,
      400,
      'signing-mode-unavailable',
      signBody(s.env, { options: { signingMode: 'keyless' } }),
    );
    expect((res.body as any).detail).toMatch(/keyless signing is not configured/);
  });
  it('gives equal payloads for equal input whatever the key order', async () => {
    const c = await s.client({ clientVersion: '1.5.0' });
    const a = await c.request('POST', SIGN_ROUTE, signBody(s.env, { predicate: { b: 1, a: { y: [1, 2], x: 'é' } } }));
    const b = await c.request('POST', SIGN_ROUTE, signBody(s.env, { predicate: { a: { x: 'é', y: [1, 2] }, b: 1 } }));
    expect(a.status).toBe(200);
    expect((a.body as any).envelope.payload).toBe((b.body as any).envelope.payload);
  });
});

describe('audit', () => {
  it('records every refusal with its status, keeps the chain intact, and never logs a token', async () => {
    expect(statuses.length).toBeGreaterThan(20);
    const lines = (await readFile(s.env.files.auditLog, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const byId = new Map(lines.map((l) => [l.record.id, l.record]));
    for (const { name, status, auditId } of statuses) {
      expect(byId.get(auditId), name).toMatchObject({ status, outcome: 'refused' });
    }
    const result = await verifyLog(s.env.files.auditLog);
    expect(result.problems).toEqual([]);
    expect(result.intact).toBe(true);
    const everything = `${await readFile(s.env.files.auditLog, 'utf8')}\n${s.logLines.join('\n')}`;
    expect(everything).not.toContain(s.env.opTok);
    expect(everything).not.toContain(s.env.poe);
    expect(everything).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/);
  });
});
