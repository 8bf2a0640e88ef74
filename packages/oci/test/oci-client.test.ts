import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CosignkitError } from '@cosignkit/core';
import { parseImageReference } from '../src/image-reference.js';
import { MEDIA_TYPES } from '../src/media-types.js';
import { RegistryClient, sha256Digest } from '../src/registry-client.js';
import { startRegistry, type RunningRegistry } from './harness/docker-registry.js';

let registry: RunningRegistry;
beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => registry?.stop());

const noCredentials = async () => undefined;

describe('image references', () => {
  it('normalises Docker Hub names and keeps hosts with ports', () => {
    expect(parseImageReference('alpine')).toEqual({
      registry: 'index.docker.io',
      repository: 'library/alpine',
      tag: 'latest',
    });
    expect(parseImageReference('127.0.0.1:5000/demo/app:v1')).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'demo/app',
      tag: 'v1',
    });
    const d = `sha256:${'a'.repeat(64)}`;
    expect(parseImageReference(`localhost:5000/app@${d}`)).toEqual({
      registry: 'localhost:5000',
      repository: 'app',
      digest: d,
    });
  });
  it('refuses a malformed reference with USAGE', () => {
    expect(() => parseImageReference('Upper/Case')).toThrow(/invalid image reference/);
    expect(() => parseImageReference('app@sha256:short')).toThrow(/digest/);
  });
});

describe('RegistryClient against docker-registry', () => {
  it('pushes blobs and a manifest, resolves, reads back and lists tags', async () => {
    const client = new RegistryClient({ credentials: noCredentials });
    const repo = { registry: registry.host, repository: 'demo/app' };
    const layer = randomBytes(1000);
    const config = Buffer.from('{}');
    const layerDigest = await client.pushBlob(repo, layer);
    expect(layerDigest).toBe(sha256Digest(layer));
    expect(await client.hasBlob(repo, layerDigest)).toBe(true);
    const configDigest = await client.pushBlob(repo, config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: config.length },
        layers: [{ mediaType: 'application/octet-stream', digest: layerDigest, size: layer.length }],
      }),
    );
    const digest = await client.putManifest(repo, 'v1', manifest, MEDIA_TYPES.ociManifest);
    expect((await client.resolve(repo, 'v1')).digest).toBe(digest);
    expect((await client.getManifest(repo, digest)).bytes.equals(manifest)).toBe(true);
    expect(await client.getBlob(repo, layerDigest)).toEqual(layer);
    expect(await client.listTags(repo)).toEqual(['v1']);
    expect((await client.referrers(repo, digest)).fallback).toBe(true);
  });

  it('resolves manifests (HEAD) over one kept-alive connection, not a new one per request', async () => {
    // A TCP pass-through in front of the real registry counts the connections the client opens.
    let connections = 0;
    const [host, port] = registry.host.split(':');
    const proxy = createServer((inbound) => {
      connections++;
      const outbound = connect(Number(port), host!);
      inbound.pipe(outbound).pipe(inbound);
      const close = () => {
        inbound.destroy();
        outbound.destroy();
      };
      inbound.on('error', close).on('close', close);
      outbound.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const client = new RegistryClient({ credentials: noCredentials });
      const repo = { registry: `127.0.0.1:${(proxy.address() as AddressInfo).port}`, repository: 'demo/heads' };
      const config = Buffer.from('{}');
      const configDigest = await client.pushBlob(repo, config);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.ociManifest,
          config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: config.length },
          layers: [],
        }),
      );
      const digest = await client.putManifest(repo, 'v1', manifest, MEDIA_TYPES.ociManifest);
      const before = connections;
      for (let i = 0; i < 10; i++) expect((await client.resolve(repo, 'v1')).digest).toBe(digest);
      await expect(client.resolve(repo, 'absent')).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
      expect(connections - before).toBeLessThanOrEqual(1);
    } finally {
      proxy.close();
    }
  });

  it('says IMAGE_NOT_FOUND for an unknown tag and REGISTRY_UNAVAILABLE for a registry that is down', async () => {
    const client = new RegistryClient({ credentials: noCredentials });
    await expect(client.resolve({ registry: registry.host, repository: 'nope/nothing' }, 'v1')).rejects.toMatchObject({
      code: 'IMAGE_NOT_FOUND',
    });
    const down = await startRegistry();
    await down.stop();
    const error = await client.resolve({ registry: down.host, repository: 'a' }, 'v1').catch((e: unknown) => e);
    expect(CosignkitError.isInstance(error) && error.code).toBe('REGISTRY_UNAVAILABLE');
  });
});

describe('plain HTTP only for loopback or when allowed', () => {
  it('uses https for other hosts unless allowHttp, as cosign does', async () => {
    const urls: string[] = [];
    // Real fetch underneath (the host does not resolve); the wrapper only records which URL was asked for.
    const recording: typeof fetch = (input, init) => {
      urls.push(String(input));
      return fetch(input, init);
    };
    const repo = { registry: 'registry.invalid:5000', repository: 'a/b' };
    await expect(
      new RegistryClient({ credentials: noCredentials, fetch: recording }).resolve(repo, 'v1'),
    ).rejects.toMatchObject({ code: 'REGISTRY_UNAVAILABLE' });
    await expect(
      new RegistryClient({ credentials: noCredentials, fetch: recording, allowHttp: true }).resolve(repo, 'v1'),
    ).rejects.toMatchObject({ code: 'REGISTRY_UNAVAILABLE' });
    await new RegistryClient({ credentials: noCredentials, fetch: recording })
      .resolve({ registry: registry.host, repository: 'x/y' }, 'v1')
      .catch(() => undefined);
    expect(urls).toEqual([
      'https://registry.invalid:5000/v2/a/b/manifests/v1',
      'http://registry.invalid:5000/v2/a/b/manifests/v1',
      `http://${registry.host}/v2/x/y/manifests/v1`,
    ]);
  });
});

describe('docker config credentials', () => {
  it('reads auths, then credHelpers and credsStore through a real docker-credential-* program', async () => {
    const { mkdtempSync, writeFileSync, chmodSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { dockerConfigCredentials } = await import('../src/docker-credentials.js');
    const dir = mkdtempSync(join(tmpdir(), 'cosignkit-docker-config-'));
    try {
      // A credential helper as docker runs it: `get` with the server on stdin, JSON on stdout.
      const helper = join(dir, 'docker-credential-cktest');
      writeFileSync(
        helper,
        '#!/bin/sh\nread server\nprintf \'{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret"}\' "$server"\n',
      );
      chmodSync(helper, 0o755);
      writeFileSync(
        join(dir, 'config.json'),
        JSON.stringify({
          auths: { 'plain.example:5000': { auth: Buffer.from('u1:p:with:colons').toString('base64') } },
          credHelpers: { 'helped.example': 'cktest' },
          credsStore: 'cktest',
        }),
      );
      const creds = dockerConfigCredentials({ DOCKER_CONFIG: dir, PATH: `${dir}:${process.env.PATH}` });
      expect(await creds('plain.example:5000')).toEqual({ username: 'u1', password: 'p:with:colons' });
      expect(await creds('helped.example')).toEqual({ username: 'helper-user', password: 'helper-secret' });
      expect(await creds('anything.example')).toEqual({ username: 'helper-user', password: 'helper-secret' });
      const empty = dockerConfigCredentials({ DOCKER_CONFIG: join(dir, 'missing') });
      expect(await empty('plain.example:5000')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
