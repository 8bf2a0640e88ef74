import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CosignkitError } from '../src/errors.js';
import { payloadNamesDigest } from '../src/oci/cosign-oci.js';
import { RegistryClient, sha256Digest } from '../src/oci/registry-client.js';
import { startRegistry, type RunningRegistry } from './harness/docker-registry.js';
import { startEvilHost, type EvilHost } from './harness/evil-host.js';
import { htpasswdAuth, writeHtpasswd } from './harness/registry-auth.js';
import { seedImage } from './harness/seed-image.js';
import { startTamperingProxy, type TamperingProxy } from './harness/tampering-proxy.js';

// A real docker-registry with htpasswd auth, so that there are credentials to leak, behind a tampering proxy
// (the registry as the client sees it, 127.0.0.1) and an "evil" host on another origin (127.0.0.2).
const USER = 'ci-bot';
const PASSWORD = 'registry-pw-hostile-91c2';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
let authDir: string;
let registry: RunningRegistry;
let proxy: TamperingProxy;
let evil: EvilHost;

beforeAll(async () => {
  authDir = mkdtempSync(join(tmpdir(), 'cosignkit-hostile-'));
  registry = await startRegistry({ auth: htpasswdAuth(writeHtpasswd(authDir, USER, PASSWORD)) });
  proxy = await startTamperingProxy(registry.host);
  evil = await startEvilHost();
});
afterAll(async () => {
  await Promise.all([proxy?.stop(), evil?.stop(), registry?.stop()]);
  if (authDir) rmSync(authDir, { recursive: true, force: true });
});
beforeEach(() => {
  proxy.tamper = {};
  evil.answer = undefined;
  evil.requests.length = 0;
});

const client = (): RegistryClient => new RegistryClient({ credentials: async () => ({ username: USER, password: PASSWORD }) });

/** The code a rejected promise carries (undefined when it resolved, so the expectation fails). */
async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (!CosignkitError.isInstance(error)) throw error;
    expect(error.message).not.toContain(PASSWORD);
    return error.code;
  }
}

function expectNoCredentialsAtEvil(): void {
  expect(evil.requests.length, 'the evil host was reached').toBeGreaterThan(0);
  for (const r of evil.requests) expect(r.headers.authorization, `${r.method} ${r.url}`).toBeUndefined();
  expect(evil.requests.map((r) => r.url).filter((u) => u.startsWith('/token')), 'the evil realm was asked for a token').toEqual([]);
}

describe('credentials go only to the registry\'s own origin', () => {
  it('the proxy is faithful: pushes, pulls and lists through it with the credentials', async () => {
    const repo = { registry: proxy.host, repository: 'hostile/faithful' };
    const digest = await seedImage(client(), proxy.host, repo.repository, 'v1');
    expect((await client().resolve(repo, 'v1')).digest).toBe(digest);
    expect(await client().listTags(repo)).toEqual(['v1']);
  });

  it('an upload Location on another host gets the PUT without Authorization, and the push fails cleanly', async () => {
    proxy.tamper = {
      headers(req, status, headers) {
        if (req.method === 'POST' && status === 202 && headers.location) {
          headers.location = `${evil.origin}${new URL(headers.location, 'http://x').pathname}?_state=stolen`;
        }
      },
    };
    const repo = { registry: proxy.host, repository: 'hostile/upload' };
    expect(await codeOf(client().pushBlob(repo, randomBytes(64)))).toBe('REGISTRY_AUTH');
    expectNoCredentialsAtEvil();
    expect(evil.requests.map((r) => r.method)).toEqual(['PUT']);
  });

  it('an upload Location on another host that takes the blob without credentials still works', async () => {
    const received: Buffer[] = [];
    evil.answer = (req, res) => {
      req.on('data', (c: Buffer) => received.push(c));
      req.on('end', () => res.writeHead(201).end());
    };
    proxy.tamper = {
      headers(req, status, headers) {
        if (req.method === 'POST' && status === 202 && headers.location) headers.location = `${evil.origin}/upload/1`;
      },
    };
    const bytes = randomBytes(64);
    expect(await client().pushBlob({ registry: proxy.host, repository: 'hostile/upload-ok' }, bytes)).toBe(sha256Digest(bytes));
    expect(Buffer.concat(received)).toEqual(bytes);
    for (const r of evil.requests) expect(r.headers.authorization).toBeUndefined();
  });

  it('a tag list Link on another host is followed without Authorization', async () => {
    const repo = { registry: proxy.host, repository: 'hostile/link' };
    await seedImage(client(), proxy.host, repo.repository, 'v1');
    proxy.tamper = {
      headers(req, status, headers) {
        if (req.url?.includes('/tags/list') && status === 200) headers.link = `<${evil.origin}/v2/hostile/link/tags/list?n=1000&last=v1>; rel="next"`;
      },
    };
    expect(await codeOf(client().listTags(repo))).toBe('REGISTRY_AUTH');
    expectNoCredentialsAtEvil();
  });

  it('a blob redirected to another host that asks for a login with its own realm gets no credentials', async () => {
    const repo = { registry: proxy.host, repository: 'hostile/redirect' };
    const blob = randomBytes(64);
    const digest = await client().pushBlob(repo, blob);
    proxy.tamper = {
      answer(req, res) {
        if (req.method !== 'GET' || !req.url?.includes('/blobs/sha256:')) return false;
        res.writeHead(307, { location: `${evil.origin}/cdn/${digest}` }).end();
        return true;
      },
    };
    const c = client();
    expect(await c.hasBlob(repo, digest)).toBe(true); // answers the registry's own challenge: Basic is cached
    expect(await codeOf(c.getBlob(repo, digest))).toBe('REGISTRY_AUTH');
    expectNoCredentialsAtEvil();
    // Also with nothing cached: the first challenge the client sees is the redirect target's.
    evil.requests.length = 0;
    expect(await codeOf(client().getBlob(repo, digest))).toBe('REGISTRY_AUTH');
    expectNoCredentialsAtEvil();
  });

  it('a blob redirected to another host that serves it without credentials (a CDN) still works', async () => {
    const repo = { registry: proxy.host, repository: 'hostile/cdn' };
    const blob = randomBytes(64);
    const digest = await client().pushBlob(repo, blob);
    evil.answer = (_req, res) => void res.writeHead(200, { 'content-length': String(blob.length) }).end(blob);
    proxy.tamper = {
      answer(req, res) {
        if (req.method !== 'GET' || !req.url?.includes('/blobs/sha256:')) return false;
        res.writeHead(307, { location: `${evil.origin}/cdn/${digest}` }).end();
        return true;
      },
    };
    expect(await client().getBlob(repo, digest)).toEqual(blob);
    for (const r of evil.requests) expect(r.headers.authorization).toBeUndefined();
  });

  it('the proxy really sends credentials it has: a same-origin request carries them', async () => {
    // Guards the tests above: without this, "no Authorization at the evil host" could hold for a client that
    // never sends credentials at all.
    const seen: (string | undefined)[] = [];
    proxy.tamper = {
      path(req) {
        seen.push(req.headers.authorization);
        return undefined;
      },
    };
    await client().listTags({ registry: proxy.host, repository: 'hostile/faithful' });
    expect(seen).toContain(BASIC);
  });
});

describe('what the cosign engine reports', () => {
  // The CLI test (oci-hostile) proves real cosign output passes; these prove foreign payloads do not.
  const digest = `sha256:${'a'.repeat(64)}`;
  const other = `sha256:${'b'.repeat(64)}`;
  const simpleSigning = (d: string) => ({ critical: { identity: { 'docker-reference': 'r/x' }, image: { 'docker-manifest-digest': d }, type: 'cosign container image signature' }, optional: null });
  const envelope = (hex: unknown) => ({
    payloadType: 'application/vnd.in-toto+json',
    payload: Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', subject: [{ name: 'r/x', digest: { sha256: hex } }] })).toString('base64'),
    signatures: [],
  });

  it('accepts only payloads that name the digest cosign was given', () => {
    expect(payloadNamesDigest(simpleSigning(digest), digest)).toBe(true);
    expect(payloadNamesDigest(simpleSigning(other), digest)).toBe(false);
    expect(payloadNamesDigest(envelope('a'.repeat(64)), digest)).toBe(true);
    expect(payloadNamesDigest(envelope('b'.repeat(64)), digest)).toBe(false);
    expect(payloadNamesDigest({ payload: 'not base64 json' }, digest)).toBe(false);
    expect(payloadNamesDigest(null, digest)).toBe(false);
    expect(payloadNamesDigest('text', digest)).toBe(false);
  });
});
