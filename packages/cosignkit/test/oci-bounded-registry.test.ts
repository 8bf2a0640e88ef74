import { randomBytes, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BackendRegistry, publicKeyPem } from '@cosignkit/core';
import { CosignkitError } from '@cosignkit/core';
import { escapeForTerminal } from '@cosignkit/core';
import { readBundleReferrers } from '@cosignkit/oci';
import { verifyImageAttestations } from '@cosignkit/oci';
import { COSIGN_SIGN_PREDICATE, verifyImageSignatures } from '@cosignkit/oci';
import { MEDIA_TYPES } from '@cosignkit/oci';
import { createAttester, createSigner } from '../src/index.js';
import { RegistryClient, sha256Digest } from '@cosignkit/oci';
import { REGISTRY_LIMITS } from '@cosignkit/oci';
import { readSignatureLayers, signatureTag } from '@cosignkit/oci';
import { startRegistry, type RunningRegistry } from '../../oci/test/harness/docker-registry.js';
import { seedImage } from '../../oci/test/harness/seed-image.js';
import { startTamperingProxy, type Tamper, type TamperingProxy } from '../../oci/test/harness/tampering-proxy.js';
import { tempDir } from '../../core/test/helpers/cosign-cli.js';
import { fakeMemoryBackend, memoryStore } from '@cosignkit/key-testkit';

// A real docker-registry behind a tampering proxy (both on 127.0.0.1): every response the client reads can
// be replaced by a hostile one, and each must end fast with a stable code under a memory cap.
let registry: RunningRegistry;
let proxy: TamperingProxy;
const { dir, cleanup } = tempDir();
const keys = memoryStore('t');
let publicKey: KeyObject;
const env = { ...process.env, COSIGN_REPOSITORY: undefined } as NodeJS.ProcessEnv;
const client = (o: Partial<ConstructorParameters<typeof RegistryClient>[0]> = {}): RegistryClient =>
  new RegistryClient({ credentials: async () => undefined, ...o });
const roleOptions = () => ({
  engine: 'native' as const,
  keys: new BackendRegistry({ env }).register(fakeMemoryBackend()),
  env,
  client: client(),
});

beforeAll(async () => {
  registry = await startRegistry();
  proxy = await startTamperingProxy(registry.host);
  keys.add('k');
  publicKey = keys.publicKey('k');
  writeFileSync(join(dir, 'k.pub'), publicKeyPem(keys.publicKey('k')));
});
afterAll(async () => {
  await Promise.all([proxy?.stop(), registry?.stop()]);
  cleanup();
});
beforeEach(() => {
  proxy.tamper = {};
});

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (!CosignkitError.isInstance(error)) throw error;
    expect(error.message).not.toMatch(/\n/);
    return error.code;
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work();
  return { value, ms: Date.now() - started };
}

/** Answers with a chunked body (no Content-Length) that never ends; counts what it could send. */
function endless(res: ServerResponse, mediaType: string, sent: { bytes: number }): void {
  res.writeHead(200, { 'content-type': mediaType });
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const pump = (): void => {
    while (!res.destroyed && res.write(chunk)) sent.bytes += chunk.length;
    if (!res.destroyed) res.once('drain', pump);
  };
  pump();
}

/** Headers at once, then one byte per `everyMs` (a registry that keeps the connection barely alive). */
function trickle(res: ServerResponse, everyMs: number): void {
  res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest });
  const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), everyMs);
  res.on('close', () => clearInterval(timer));
}

const isGet = (req: IncomingMessage, part: string): boolean => req.method === 'GET' && (req.url ?? '').includes(part);

async function signedImage(
  repository: string,
  format: 'legacy' | 'bundle' = 'legacy',
  annotations?: Record<string, string>,
): Promise<{ image: string; digest: string }> {
  const digest = await seedImage(client(), proxy.host, repository, 'v1');
  const image = `${proxy.host}/${repository}:v1`;
  await createSigner(roleOptions()).signArtifact(image, { key: 'memory:t/k', format, annotations });
  return { image, digest };
}

describe('bounded responses', () => {
  it('a manifest declared (Content-Length) at 1 GB is refused before its body is read', async () => {
    const repository = 'bounds/declared';
    const { digest } = await signedImage(repository);
    const sent = { bytes: 0 };
    proxy.tamper = {
      answer(req, res) {
        if (!isGet(req, '.sig')) return false;
        res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest, 'content-length': String(1024 ** 3) });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk)) sent.bytes += chunk.length;
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
        return true;
      },
    };
    const { value, ms } = await timed(() =>
      codeOf(client().getManifest({ registry: proxy.host, repository }, signatureTag(digest, 'sig'))),
    );
    expect(value).toBe('REGISTRY_ERROR');
    expect(ms).toBeLessThan(5000);
    expect(sent.bytes).toBeLessThan(64 * 1024 * 1024);
  });

  it('an endless chunked .sig manifest ends with REGISTRY_ERROR after the 4 MiB cap, not when memory runs out', async () => {
    const repository = 'bounds/endless-sig';
    const { image } = await signedImage(repository);
    const sent = { bytes: 0 };
    proxy.tamper = { answer: (req, res) => isGet(req, '.sig') && (endless(res, MEDIA_TYPES.ociManifest, sent), true) };
    const { value, ms } = await timed(() => codeOf(verifyImageSignatures(client(), image, [publicKey], env)));
    expect(value).toBe('REGISTRY_ERROR');
    expect(ms).toBeLessThan(10_000);
    // Stopped soon after the cap: what was sent is the cap plus socket buffers, not the 4.3 GB of the report.
    expect(sent.bytes).toBeLessThan(REGISTRY_LIMITS.manifestBytes + 32 * 1024 * 1024);
  });

  it('an endless chunked fallback index ends with REGISTRY_ERROR', async () => {
    const repository = 'bounds/endless-index';
    const digest = await seedImage(client(), proxy.host, repository, 'v1');
    const sent = { bytes: 0 };
    const tag = digest.replace(':', '-');
    proxy.tamper = {
      answer: (req, res) => isGet(req, `/manifests/${tag}`) && (endless(res, MEDIA_TYPES.ociIndex, sent), true),
    };
    const { value, ms } = await timed(() =>
      codeOf(readBundleReferrers(client(), { registry: proxy.host, repository }, digest)),
    );
    expect(value).toBe('REGISTRY_ERROR');
    expect(ms).toBeLessThan(10_000);
    expect(sent.bytes).toBeLessThan(REGISTRY_LIMITS.manifestBytes + 32 * 1024 * 1024);
  });

  it("a chunked signature layer over 16 MB is counted, refused, and recorded as that layer's failure", async () => {
    const repository = 'bounds/chunked-layer';
    // With an annotation the payload is not the one verification rebuilds, so its blob is fetched.
    const { image, digest } = await signedImage(repository, 'legacy', { build: '7' });
    const layers = await readSignatureLayers(client(), { registry: proxy.host, repository }, digest, 'sig');
    const layerDigest = sha256Digest(layers[0]!.bytes);
    const sent = { bytes: 0 };
    proxy.tamper = {
      answer: (req, res) =>
        isGet(req, `/blobs/${layerDigest}`) && (endless(res, 'application/octet-stream', sent), true),
    };
    const { value, ms } = await timed(() => verifyImageSignatures(client(), image, [publicKey], env));
    expect(ms).toBeLessThan(10_000);
    expect(value.found.map((f) => [f.verified, f.failure?.code])).toEqual([[false, 'REGISTRY_ERROR']]);
    expect(value.found[0]!.failure!.message).toMatch(/larger than 16777216 bytes/);
    expect(sent.bytes).toBeLessThan(REGISTRY_LIMITS.signatureLayerBytes + 32 * 1024 * 1024);
  });

  it('limits counts: 100,000 layers, 101 layers, 1,001 index entries, 101 referrers', async () => {
    const repository = 'bounds/counts';
    const { image, digest } = await signedImage(repository);
    const layer = (i: number) => ({
      mediaType: MEDIA_TYPES.simpleSigning,
      size: 10,
      digest: `sha256:${i.toString(16).padStart(64, '0')}`,
    });
    const manifestOf = (n: number) =>
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: layer(0),
        layers: Array.from({ length: n }, (_, i) => layer(i)),
      });
    let body = '';
    const requested: string[] = [];
    proxy.tamper = {
      answer(req, res) {
        requested.push(`${req.method} ${req.url}`);
        if (!isGet(req, '.sig')) return false;
        res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest }).end(body);
        return true;
      },
    };
    body = manifestOf(100_000); // 10 MB: over the byte cap before the count is even looked at
    let t = await timed(() => codeOf(verifyImageSignatures(client(), image, [publicKey], env)));
    expect([t.value, t.ms < 5000]).toEqual(['REGISTRY_ERROR', true]);
    body = manifestOf(REGISTRY_LIMITS.signatureLayers + 1);
    requested.length = 0;
    t = await timed(() => codeOf(verifyImageSignatures(client(), image, [publicKey], env)));
    expect([t.value, t.ms < 5000]).toEqual(['REGISTRY_ERROR', true]);
    expect(
      requested.filter((r) => r.includes('/blobs/')),
      'no layer was fetched',
    ).toEqual([]);

    const entry = (i: number) => ({
      mediaType: MEDIA_TYPES.ociManifest,
      size: 10,
      digest: `sha256:${i.toString(16).padStart(64, '0')}`,
      artifactType: MEDIA_TYPES.sigstoreBundle,
    });
    const indexOf = (n: number) =>
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: Array.from({ length: n }, (_, i) => entry(i)),
      });
    const tag = digest.replace(':', '-');
    proxy.tamper = {
      answer(req, res) {
        if (!isGet(req, `/manifests/${tag}`)) return false;
        res.writeHead(200, { 'content-type': MEDIA_TYPES.ociIndex }).end(body);
        return true;
      },
    };
    body = indexOf(REGISTRY_LIMITS.indexEntries + 1);
    expect(await codeOf(readBundleReferrers(client(), { registry: proxy.host, repository }, digest))).toBe(
      'REGISTRY_ERROR',
    );
    body = indexOf(REGISTRY_LIMITS.referrers + 1);
    expect(await codeOf(readBundleReferrers(client(), { registry: proxy.host, repository }, digest))).toBe(
      'REGISTRY_ERROR',
    );
  });

  it('keeps concurrency bounded: at most REGISTRY_LIMITS.concurrency layer blobs in flight', async () => {
    const repository = 'bounds/concurrency';
    const { digest } = await signedImage(repository);
    const layers = Array.from({ length: 40 }, (_, i) => ({
      mediaType: MEDIA_TYPES.simpleSigning,
      size: 10,
      digest: `sha256:${(i + 1).toString(16).padStart(64, '0')}`,
    }));
    let inFlight = 0;
    let most = 0;
    proxy.tamper = {
      answer(req, res) {
        if (isGet(req, '.sig')) {
          res
            .writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest })
            .end(JSON.stringify({ schemaVersion: 2, config: layers[0], layers }));
          return true;
        }
        if (!isGet(req, '/blobs/')) return false;
        most = Math.max(most, ++inFlight);
        setTimeout(() => {
          inFlight--;
          res.writeHead(404).end();
        }, 30);
        return true;
      },
    };
    const read = await readSignatureLayers(client(), { registry: proxy.host, repository }, digest, 'sig');
    expect(read.map((l) => l.failure?.code)).toEqual(layers.map(() => 'IMAGE_NOT_FOUND'));
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(REGISTRY_LIMITS.concurrency);
  });
});

describe('deadlines', () => {
  it('headers then one byte per second: TIMEOUT at the configured deadline', async () => {
    const repository = 'bounds/trickle';
    const { image } = await signedImage(repository);
    proxy.tamper = { answer: (req, res) => isGet(req, '.sig') && (trickle(res, 1000), true) };
    const { value, ms } = await timed(() =>
      codeOf(verifyImageSignatures(client({ timeoutMs: 1500 }), image, [publicKey], env)),
    );
    expect(value).toBe('TIMEOUT');
    expect(ms).toBeLessThan(5000);
  });

  it('a body that stalls ends with TIMEOUT at the idle timeout; headers that never come at the deadline', async () => {
    const repository = 'bounds/stall';
    const { image } = await signedImage(repository);
    proxy.tamper = {
      answer(req, res) {
        if (!isGet(req, '.sig')) return false;
        res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest });
        res.write('{');
        return true;
      },
    };
    let t = await timed(() => codeOf(verifyImageSignatures(client({ idleTimeoutMs: 300 }), image, [publicKey], env)));
    expect([t.value, t.ms < 3000]).toEqual(['TIMEOUT', true]);
    proxy.tamper = { answer: (req) => isGet(req, '.sig') };
    t = await timed(() => codeOf(verifyImageSignatures(client({ timeoutMs: 800 }), image, [publicKey], env)));
    expect([t.value, t.ms < 3000]).toEqual(['TIMEOUT', true]);
  });

  it("the caller's abort is ABORTED, not TIMEOUT", async () => {
    const repository = 'bounds/abort';
    const { image } = await signedImage(repository);
    proxy.tamper = { answer: (req) => isGet(req, '.sig') };
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    expect(await codeOf(verifyImageSignatures(client({ signal: controller.signal }), image, [publicKey], env))).toBe(
      'ABORTED',
    );
  });
});

describe('digests from the registry', () => {
  it('a .sig layer whose digest is not well-formed is one failure, never a URL; the valid layer beside it verifies', async () => {
    const repository = 'bounds/digests';
    const { image, digest } = await signedImage(repository);
    const real = await client().getManifest({ registry: proxy.host, repository }, signatureTag(digest, 'sig'));
    const manifest = JSON.parse(real.bytes.toString('utf8')) as { layers: Record<string, unknown>[] };
    const sha512Bytes = Buffer.from('not a signature');
    const { createHash } = await import('node:crypto');
    const sha512 = `sha512:${createHash('sha512').update(sha512Bytes).digest('hex')}`;
    const bad = [
      'sha256:../../other/manifests/x',
      `md5:${'0'.repeat(32)}`,
      `sha256:${'A'.repeat(64)}`,
      42,
      `sha512:${'0'.repeat(128)}`,
      sha512,
    ];
    manifest.layers.push(
      ...bad.map((d) => ({
        mediaType: MEDIA_TYPES.simpleSigning,
        size: 15,
        digest: d,
        annotations: { 'dev.cosignproject.cosign/signature': 'AA==' },
      })),
    );
    const requested: string[] = [];
    proxy.tamper = {
      answer(req, res) {
        requested.push(req.url ?? '');
        if (isGet(req, '.sig')) {
          res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest }).end(JSON.stringify(manifest));
          return true;
        }
        if (isGet(req, '/blobs/sha512:')) {
          res.writeHead(200).end(sha512Bytes); // the content of `sha512`: checked, so the wrong one fails
          return true;
        }
        return false;
      },
    };
    const result = await verifyImageSignatures(client(), image, [publicKey], env);
    expect(result.found.map((f) => [f.verified, f.failure?.code])).toEqual([
      [true, undefined],
      ...bad.slice(0, 4).map(() => [false, 'SIGNATURE_MALFORMED']),
      [false, 'REGISTRY_ERROR'], // a sha512 digest the content does not match
      [false, 'SIGNATURE_MALFORMED'], // a sha512 digest the content matches: read, then not a simple-signing payload
    ]);
    expect(result.found.slice(1, 5).every((f) => /no well-formed digest/.test(f.failure!.message))).toBe(true);
    expect(result.found[6]!.failure!.message).not.toMatch(/digest/);
    expect(requested.filter((u) => u.includes('..') || u.includes('md5') || /sha256:A/.test(u))).toEqual([]);
  });

  it('by digest, the signature reads start with the HEAD; its verdict still comes first, and nothing is left running', async () => {
    const repository = 'bounds/parallel-head';
    const { digest } = await signedImage(repository);
    const head = await client().resolve({ registry: proxy.host, repository }, digest);
    const events: string[] = [];
    const later = (what: string, res: ServerResponse, status: number, headers: Record<string, string>): true => {
      setTimeout(() => {
        events.push(what);
        res.writeHead(status, headers).end();
      }, 300);
      return true;
    };
    proxy.tamper = {
      answer(req, res) {
        if (isGet(req, '.sig')) events.push('.sig asked');
        if (req.method !== 'HEAD') return false;
        return later('HEAD answered', res, 200, {
          'docker-content-digest': head.digest,
          'content-type': head.mediaType,
          'content-length': String(head.size),
        });
      },
    };
    const image = `${proxy.host}/${repository}@${digest}`;
    const result = await verifyImageSignatures(client(), image, [publicKey], env);
    expect(result.found.map((f) => [f.format, f.verified])).toEqual([['legacy', true]]);
    expect(events).toEqual(['.sig asked', 'HEAD answered']);
    // An image that is not there: IMAGE_NOT_FOUND from the HEAD, returned only once the slow read has ended.
    events.length = 0;
    const missing = sha256Digest(randomBytes(16));
    proxy.tamper = {
      answer: (req, res) => isGet(req, '.sig') && later('.sig answered', res, 404, {}),
    };
    expect(
      await codeOf(verifyImageSignatures(client(), `${proxy.host}/${repository}@${missing}`, [publicKey], env)),
    ).toBe('IMAGE_NOT_FOUND');
    expect(events).toEqual(['.sig answered']);
  });

  it("cosign's payload for the image is rebuilt, not fetched; a layer that differs in digest or size is fetched", async () => {
    const blobsAsked = async (image: string, tamper: Partial<Tamper> = {}): Promise<number> => {
      let blobs = 0;
      proxy.tamper = {
        ...tamper,
        answer(req, res) {
          if (isGet(req, '/blobs/')) blobs++;
          return tamper.answer?.(req, res) ?? false;
        },
      };
      const result = await verifyImageSignatures(client(), image, [publicKey], env);
      expect(result.found.map((f) => [f.format, f.verified, f.failure?.code])).toEqual([['legacy', true, undefined]]);
      return blobs;
    };
    const plain = await signedImage('bounds/rebuilt');
    expect(await blobsAsked(plain.image)).toBe(0);
    const annotated = await signedImage('bounds/rebuilt-annotated', 'legacy', { build: '7' });
    expect(await blobsAsked(annotated.image)).toBe(1);
    // The digest is the payload's but the size is not: not taken for it, so the blob is read (and its digest checked).
    const real = await client().getManifest(
      { registry: proxy.host, repository: 'bounds/rebuilt' },
      signatureTag(plain.digest, 'sig'),
    );
    const manifest = JSON.parse(real.bytes.toString('utf8')) as { layers: { size: number }[] };
    manifest.layers[0]!.size += 1;
    const resized = (req: IncomingMessage, res: ServerResponse): boolean =>
      isGet(req, '.sig') &&
      (res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest }).end(JSON.stringify(manifest)), true);
    expect(await blobsAsked(plain.image, { answer: resized })).toBe(1);
  });

  it('a Docker-Content-Digest that is not a digest is refused before it reaches a URL', async () => {
    const repository = 'bounds/head-digest';
    await seedImage(client(), proxy.host, repository, 'v1');
    proxy.tamper = {
      headers: (req, _s, headers) =>
        // biome-ignore lint/suspicious/noAssignInExpressions: the tamper callback is one expression; the header is set for HEAD only
        void (req.method === 'HEAD' && (headers['docker-content-digest'] = 'sha256:../../x')),
    };
    expect(await codeOf(verifyImageSignatures(client(), `${proxy.host}/${repository}:v1`, [publicKey], env))).toBe(
      'REGISTRY_ERROR',
    );
  });

  it('referrer entries whose digests are not well-formed are skipped without a request', async () => {
    const repository = 'bounds/referrer-digests';
    const { image, digest } = await signedImage(repository, 'bundle');
    const tag = digest.replace(':', '-');
    const requested: string[] = [];
    const index = JSON.parse(
      (await client().getManifest({ registry: proxy.host, repository }, tag)).bytes.toString('utf8'),
    ) as { manifests: unknown[] };
    index.manifests.push(
      { mediaType: MEDIA_TYPES.ociManifest, size: 1, digest: 'sha256:../../../v2/x/manifests/y' },
      null,
      'x',
      { digest: `md5:${'0'.repeat(32)}` },
    );
    proxy.tamper = {
      answer(req, res) {
        requested.push(req.url ?? '');
        if (!(req.method === 'GET' && req.url?.endsWith(`/manifests/${tag}`))) return false;
        res.writeHead(200, { 'content-type': MEDIA_TYPES.ociIndex }).end(JSON.stringify(index));
        return true;
      },
    };
    requested.length = 0;
    const result = await verifyImageSignatures(client(), image, [publicKey], env);
    expect(result.found.map((f) => [f.format, f.verified])).toEqual([['bundle', true]]);
    expect(requested.filter((u) => u.includes('..') || u.includes('md5'))).toEqual([]);
  });
});

describe('one failure per layer or referrer, and the signing predicate', () => {
  it('invalid JSON in the .sig manifest is SIGNATURE_MALFORMED, and a good bundle referrer beside it still verifies', async () => {
    const repository = 'bounds/bad-sig-json';
    const { image } = await signedImage(repository, 'bundle');
    proxy.tamper = {
      answer(req, res) {
        if (!isGet(req, '.sig')) return false;
        res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest }).end('{"layers": [');
        return true;
      },
    };
    const result = await verifyImageSignatures(client(), image, [publicKey], env);
    expect(result.found.map((f) => [f.format, f.verified, f.failure?.code])).toEqual([
      ['legacy', false, 'SIGNATURE_MALFORMED'],
      ['bundle', true, undefined],
    ]);
  });

  it('a fallback index that is not an index is one failure; the valid .sig layer beside it verifies', async () => {
    const repository = 'bounds/bad-index';
    const { image, digest } = await signedImage(repository);
    const tag = digest.replace(':', '-');
    proxy.tamper = {
      answer(req, res) {
        if (!(req.method === 'GET' && req.url?.endsWith(`/manifests/${tag}`))) return false;
        res.writeHead(200, { 'content-type': MEDIA_TYPES.ociIndex }).end('{"manifests": "no"}');
        return true;
      },
    };
    const result = await verifyImageSignatures(client(), image, [publicKey], env);
    expect(result.found.map((f) => [f.format, f.verified, f.failure?.code])).toEqual([
      ['bundle', false, 'NOT_AN_IMAGE'],
      ['legacy', true, undefined],
    ]);
  });

  it('a bad extra layer (missing blob) is one failure; the valid signature beside it verifies', async () => {
    const repository = 'bounds/extra-layer';
    const { image, digest } = await signedImage(repository);
    const real = await client().getManifest({ registry: proxy.host, repository }, signatureTag(digest, 'sig'));
    const manifest = JSON.parse(real.bytes.toString('utf8')) as { layers: Record<string, unknown>[] };
    manifest.layers.unshift({ ...manifest.layers[0], digest: sha256Digest(randomBytes(32)) });
    proxy.tamper = {
      answer(req, res) {
        if (!isGet(req, '.sig')) return false;
        res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest }).end(JSON.stringify(manifest));
        return true;
      },
    };
    const result = await verifyImageSignatures(client(), image, [publicKey], env);
    expect(result.found.map((f) => [f.verified, f.failure?.code])).toEqual([
      [false, 'IMAGE_NOT_FOUND'],
      [true, undefined],
    ]);
  });

  it('the signing predicate is not an attestation: refused as an .att layer exactly as as a referrer', async () => {
    const repository = 'bounds/sign-predicate';
    const digest = await seedImage(client(), proxy.host, repository, 'v1');
    const image = `${proxy.host}/${repository}:v1`;
    const predicates = mkdtempSync(join(tmpdir(), 'cosignkit-bounds-'));
    const empty = join(predicates, 'empty.json');
    writeFileSync(empty, '{}');
    const slsa = join(predicates, 'slsa.json');
    writeFileSync(slsa, '{"buildDefinition":{},"runDetails":{}}');
    const attester = createAttester(roleOptions());
    for (const format of ['legacy', 'bundle'] as const) {
      await attester.attestArtifact(image, {
        key: 'memory:t/k',
        type: COSIGN_SIGN_PREDICATE,
        predicate: empty,
        format,
      });
    }
    await attester.attestArtifact(image, {
      key: 'memory:t/k',
      type: 'slsaprovenance1',
      predicate: slsa,
      format: 'legacy',
    });
    rmSync(predicates, { recursive: true, force: true });
    const asked = await verifyImageAttestations(client(), image, [publicKey], {
      predicateType: COSIGN_SIGN_PREDICATE,
      env,
    });
    expect(asked.found).toEqual([]);
    const all = await verifyImageAttestations(client(), image, [publicKey], { env });
    expect(
      all.found.map((f) => [f.format, f.verified, (f.payload as { predicateType?: string }).predicateType]),
    ).toEqual([['legacy', true, 'https://slsa.dev/provenance/v1']]);
    // As a signature, the referrer counts (cosign v3's layout); the .att layer does not (it is no .sig layer).
    const signatures = await verifyImageSignatures(client(), image, [publicKey], env);
    expect(signatures.found.map((f) => [f.format, f.verified])).toEqual([['bundle', true]]);
    expect(digest).toMatch(/^sha256:/);
  });
});

describe('token realms', () => {
  const challenge =
    (realm: string) =>
    (req: IncomingMessage, res: ServerResponse): boolean => {
      if (!(req.url ?? '').startsWith('/v2/')) return false;
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="x"` }).end();
      return true;
    };
  const credentials = async () => ({ username: 'u', password: 'realm-test-pw' });

  it('a realm that is data:, file: or not a URL is REGISTRY_AUTH, one line, no raw message', async () => {
    for (const realm of [
      'data:application/json,{"token":"x"}',
      'not a url',
      'file:///etc/passwd',
      'http://user:pw@127.0.0.1:1/token',
    ]) {
      proxy.tamper = { answer: challenge(realm) };
      const c = new RegistryClient({ credentials });
      try {
        await c.resolve({ registry: proxy.host, repository: 'bounds/realm' }, 'v1');
        expect.unreachable();
      } catch (error) {
        expect(CosignkitError.isInstance(error), String(error)).toBe(true);
        expect((error as CosignkitError).code).toBe('REGISTRY_AUTH');
        expect((error as Error).message).not.toMatch(/\n|Invalid URL|TypeError/);
      }
    }
  });

  it("credentials go over plain HTTP only to loopback or the registry's own host, as cosign; never to another host", async () => {
    // Names that are not loopback, mapped onto the proxy's loopback address by the client's fetch (as
    // /etc/hosts would): the rule is about the name in the realm, so the test needs non-loopback names.
    const port = proxy.host.split(':')[1]!;
    const seen: string[] = [];
    const mapped: typeof fetch = (input, init) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      seen.push(`${url.host} ${new Headers(init?.headers).get('authorization') ?? '-'}`);
      const name = url.href;
      url.hostname = '127.0.0.1';
      // The response keeps the name it was asked by, as it would with a real resolver.
      return fetch(url, init).then((r) => Object.defineProperty(r, 'url', { value: name }));
    };
    const tokens: string[] = [];
    const serveToken = (req: IncomingMessage, res: ServerResponse): boolean => {
      if (!(req.url ?? '').startsWith('/token')) return false;
      tokens.push(req.headers.authorization ?? '-');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"t0k3n"}');
      return true;
    };
    const registryName = `registry.cosignkit.test:${port}`;
    for (const [realmHost, allowed] of [
      [`registry.cosignkit.test:${port}`, true],
      [`elsewhere.cosignkit.test:${port}`, false],
    ] as const) {
      seen.length = 0;
      tokens.length = 0;
      proxy.tamper = {
        answer: (req, res) =>
          serveToken(req, res) ||
          (!req.headers.authorization?.startsWith('Bearer') && challenge(`http://${realmHost}/token`)(req, res)),
      };
      const c = new RegistryClient({ credentials, allowHttp: true, fetch: mapped });
      const code = await codeOf(c.resolve({ registry: registryName, repository: 'bounds/realm' }, 'v1'));
      if (allowed) {
        expect(code).toBe('IMAGE_NOT_FOUND'); // the token was fetched and used; the tag does not exist
        expect(tokens).toEqual([`Basic ${Buffer.from('u:realm-test-pw').toString('base64')}`]);
      } else {
        expect(code).toBe('REGISTRY_AUTH');
        expect(tokens).toEqual([]);
        expect(seen.filter((s) => s.startsWith('elsewhere'))).toEqual([]);
      }
    }
  });
});

describe('escapeForTerminal', () => {
  it('escapes newlines, ESC, other C0/C1 controls, DEL and bidi overrides; leaves other text alone', () => {
    expect(escapeForTerminal('a\nb\r\tc\x1b[32mok\x07\x7f\x9b\u202ez\u2028')).toBe(
      'a\\nb\\r\\tc\\x1b[32mok\\x07\\x7f\\x9b\\u202ez\\u2028',
    );
    expect(escapeForTerminal('sha256:abc 📦 é → ok')).toBe('sha256:abc 📦 é → ok');
  });
});
