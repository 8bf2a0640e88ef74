import type { KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CosignkitError, type ErrorCode } from '@cosignkit/core';
import { readBundleReferrers } from '../src/bundle-referrer.js';
import { dsseBundleBytes, envelopeOfBundle, signCosignEnvelope } from '../src/envelope-io.js';
import { checkStatementBundle, COSIGN_SIGN_PREDICATE } from '../src/image-signatures.js';
import { MEDIA_TYPES } from '../src/media-types.js';
import { parseChallenge } from '../src/registry-auth.js';
import { RegistryClient, sha256Digest } from '../src/registry-client.js';
import { parseImageIndex, parseImageManifest } from '../src/registry-documents.js';
import { simpleSigningPayload } from '../src/simple-signing.js';
import { signPayload, verifyPayload } from '@cosignkit/core';
import { memoryStore } from '@cosignkit/key-testkit';

// Property tests of everything a registry answers: mutated manifests, indexes, referrer answers, token
// challenges and token answers, fed to the parsers directly and through a real HTTP server on loopback.
// Fixed seed (reproducible), a time budget per property (≤ 20 s in all). Every outcome is a value or a
// CosignkitError with a stable code (never a TypeError), each run ends fast, and no mutation of signed
// content verifies.
const SEED = 20_261_129;
const BUDGET_MS = 3500;
const RUN_LIMIT_MS = 2000;
const STABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'NOT_AN_IMAGE',
  'REGISTRY_ERROR',
  'REGISTRY_AUTH',
  'REGISTRY_UNAVAILABLE',
  'IMAGE_NOT_FOUND',
  'TIMEOUT',
  'SIGNATURE_MALFORMED',
  'BUNDLE_MALFORMED',
  'ENVELOPE_MALFORMED',
  'VERIFICATION_FAILED',
]);
const params = (numRuns: number) => ({ seed: SEED, numRuns, interruptAfterTimeLimit: BUDGET_MS, endOnFailure: true });

/** Runs `work`; a thrown error must be a CosignkitError with a stable code, and the run must end fast. */
async function settles<T>(work: () => T | Promise<T>): Promise<{ value?: T; code?: ErrorCode }> {
  const started = Date.now();
  try {
    return { value: await work() };
  } catch (error) {
    if (!CosignkitError.isInstance(error)) throw new Error(`not a CosignkitError: ${String(error)}`, { cause: error });
    expect(STABLE.has(error.code), error.code).toBe(true);
    expect(error.message).not.toMatch(/\n/);
    return { code: error.code };
  } finally {
    expect(Date.now() - started).toBeLessThan(RUN_LIMIT_MS);
  }
}

/** A mutation of a JSON text: byte edits (flip, insert, delete, truncate) or a subtree replaced by anything. */
function mutated(text: string): fc.Arbitrary<string> {
  const value = JSON.parse(text) as unknown;
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]): void => {
    paths.push(path);
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, [...path, i]);
    } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(value, []);
  const hostile = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(
      'sha256:../../x',
      `md5:${'0'.repeat(32)}`,
      `sha512:${'f'.repeat(128)}`,
      '\u001b[2J\n',
      -1,
      1e308,
      null,
      [],
      {},
    ),
    fc.array(fc.constant({ digest: `sha256:${'1'.repeat(64)}`, mediaType: MEDIA_TYPES.sigstoreBundle }), {
      maxLength: 1200,
    }),
  );
  const structural = fc.tuple(fc.constantFrom(...paths), hostile).map(([path, replacement]) => {
    if (path.length === 0) return JSON.stringify(replacement);
    const copy = JSON.parse(text) as Record<string | number, unknown>;
    let node = copy;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    node[path[path.length - 1]!] = replacement;
    return JSON.stringify(copy);
  });
  const bytes = fc
    .tuple(fc.nat({ max: text.length }), fc.nat({ max: 8 }), fc.string({ maxLength: 8 }))
    .map(([at, remove, insert]) => text.slice(0, at) + insert + text.slice(at + remove));
  const truncated = fc.nat({ max: text.length }).map((n) => text.slice(0, n));
  return fc.oneof(structural, bytes, truncated);
}

let publicKey: KeyObject;
const subject = `sha256:${'a'.repeat(64)}`;
let bundle: Buffer;
let payload: Buffer;
let signature: Buffer;

// A hostile registry on loopback: answers from `routes`, 404 for everything else.
type Route = { status: number; headers?: Record<string, string>; body?: string | Buffer };
let routes = new Map<string, Route>();
let server: Server;
let host: string;
const onlyLoopback: typeof fetch = (input, init) => {
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  // A mutated realm may name any host: nothing leaves this machine.
  if (url.hostname !== '127.0.0.1') return Promise.reject(new TypeError('the fuzz test reaches only 127.0.0.1'));
  return fetch(input, init);
};

beforeAll(async () => {
  const store = memoryStore();
  publicKey = store.add('k');
  const { manager } = store;
  const statement = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'r/x', digest: { sha256: subject.slice(7) } }],
      predicateType: COSIGN_SIGN_PREDICATE,
      predicate: {},
    }),
  );
  bundle = dsseBundleBytes(await signCosignEnvelope(manager, 'k', statement), publicKey);
  payload = simpleSigningPayload('r/x', subject);
  signature = await signPayload(manager, 'k', payload);
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const route = routes.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!route) return void res.writeHead(404).end();
    res.writeHead(route.status, route.headers ?? {}).end(req.method === 'HEAD' ? undefined : route.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(
  () =>
    new Promise<void>((r) => {
      server?.closeAllConnections();
      server?.close(() => r());
    }),
);

describe('fuzzing registry answers', () => {
  it('manifests and indexes: a value or a stable code', async () => {
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, size: 2, digest: sha256Digest(Buffer.from('{}')) },
      layers: [
        {
          mediaType: MEDIA_TYPES.simpleSigning,
          size: 10,
          digest: sha256Digest(payload),
          annotations: { 'dev.cosignproject.cosign/signature': signature.toString('base64') },
        },
      ],
    });
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        {
          mediaType: MEDIA_TYPES.ociManifest,
          size: 10,
          digest: sha256Digest(Buffer.from(manifest)),
          artifactType: MEDIA_TYPES.sigstoreBundle,
        },
      ],
    });
    await fc.assert(
      fc.asyncProperty(mutated(manifest), mutated(index), async (m, i) => {
        await settles(() => parseImageManifest(Buffer.from(m), 'm', { code: 'SIGNATURE_MALFORMED' }));
        await settles(() => parseImageIndex(Buffer.from(i), 'i', { code: 'NOT_AN_IMAGE' }));
      }),
      params(400),
    );
  });

  it('signed content: a mutated simple-signing payload or bundle never verifies unless what was signed is unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(mutated(payload.toString('utf8')), mutated(bundle.toString('utf8')), async (p, b) => {
        if (p !== payload.toString('utf8')) expect(verifyPayload(publicKey, Buffer.from(p), signature)).toBe(false);
        const checked = (await settles(() => checkStatementBundle(Buffer.from(b), 'fuzz', subject, [publicKey]))).value;
        if (checked?.result.verified) {
          // JSON may be re-spaced or gain unknown fields and stay valid: the signed payload must be the same.
          const original = envelopeOfBundle(bundle, 'original');
          const envelope = envelopeOfBundle(Buffer.from(b), 'mutated');
          expect([envelope.payloadType, Buffer.from(envelope.payload)]).toEqual([
            original.payloadType,
            Buffer.from(original.payload),
          ]);
        }
      }),
      params(400),
    );
  });

  it('referrer answers over HTTP: a stable code or referrers whose bundle is the one signed', async () => {
    const repository = 'fuzz/referrers';
    const referrer = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: MEDIA_TYPES.sigstoreBundle,
      config: { mediaType: MEDIA_TYPES.ociEmpty, size: 2, digest: sha256Digest(Buffer.from('{}')) },
      layers: [{ mediaType: MEDIA_TYPES.sigstoreBundle, size: bundle.length, digest: sha256Digest(bundle) }],
      subject: { mediaType: MEDIA_TYPES.ociManifest, size: 100, digest: subject },
      annotations: { 'dev.sigstore.bundle.predicateType': COSIGN_SIGN_PREDICATE },
    });
    const referrerDigest = sha256Digest(Buffer.from(referrer));
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        {
          mediaType: MEDIA_TYPES.ociManifest,
          size: referrer.length,
          digest: referrerDigest,
          artifactType: MEDIA_TYPES.sigstoreBundle,
        },
      ],
    });
    const base = `/v2/${repository}`;
    await fc.assert(
      fc.asyncProperty(mutated(index), mutated(referrer), fc.boolean(), async (i, m, api) => {
        routes = new Map<string, Route>([
          [
            api ? `${base}/referrers/${subject}` : `${base}/manifests/${subject.replace(':', '-')}`,
            { status: 200, headers: { 'content-type': MEDIA_TYPES.ociIndex }, body: i },
          ],
          [
            `${base}/manifests/${referrerDigest}`,
            { status: 200, headers: { 'content-type': MEDIA_TYPES.ociManifest }, body: m },
          ],
          [`${base}/blobs/${sha256Digest(bundle)}`, { status: 200, body: bundle }],
        ]);
        const client = new RegistryClient({
          credentials: async () => undefined,
          fetch: onlyLoopback,
          timeoutMs: RUN_LIMIT_MS / 2,
        });
        const found =
          (await settles(() => readBundleReferrers(client, { registry: host, repository }, subject))).value ?? [];
        for (const r of found) if (!r.failure) expect(r.bundle).toEqual(bundle);
      }),
      params(150),
    );
  });

  it('auth challenges and token answers over HTTP: a stable code, never a TypeError, never a hang', async () => {
    const challenge = `Bearer realm="http://${'HOST'}/token",service="fuzz",scope="repository:fuzz/auth:pull"`;
    const token = JSON.stringify({ token: 'abc.def.ghi', expires_in: 300 });
    await fc.assert(
      fc.asyncProperty(mutated(JSON.stringify(challenge)), mutated(token), async (c, t) => {
        let header: string;
        try {
          header = String(JSON.parse(c)).replaceAll('HOST', host);
        } catch {
          header = c.replaceAll('HOST', host);
        }
        expect(() => parseChallenge(header)).not.toThrow();
        routes = new Map<string, Route>([
          [
            '/v2/fuzz/auth/manifests/v1',
            { status: 401, headers: { 'www-authenticate': header.replace(/[^\x20-\x7e]/g, '?') } },
          ],
          ['/token', { status: 200, headers: { 'content-type': 'application/json' }, body: t }],
        ]);
        const client = new RegistryClient({
          credentials: async () => ({ username: 'u', password: 'p' }),
          fetch: onlyLoopback,
          timeoutMs: RUN_LIMIT_MS / 2,
        });
        await settles(() => client.resolve({ registry: host, repository: 'fuzz/auth' }, 'v1'));
      }),
      params(200),
    );
  });
});
