import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BackendRegistry,
  KEY_BACKEND_SPEC_VERSION,
  parseKeyRef,
  silentLogger,
  type BackendContext,
} from '@cosignkit/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FileKeyManager, backend, fileBackend } from '../src/index.js';
import { fixture, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const context = (options: Record<string, unknown> = {}): BackendContext => ({
  options,
  secrets: async () => 'pw',
  logger: silentLogger,
  env: {},
});
const storeDir = async (ref: string, options?: Record<string, unknown>) =>
  ((await backend.open(parseKeyRef(ref), context(options))) as FileKeyManager).dir;

describe('file backend', () => {
  it('declares spec version 1, the file scheme and its capabilities', () => {
    expect(backend).toMatchObject({
      specVersion: KEY_BACKEND_SPEC_VERSION,
      name: 'file',
      schemes: ['file'],
      capabilities: { generate: true, delete: true, extractable: true },
    });
    expect([...backend.capabilities.algorithms].sort()).toEqual(['ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'ed25519']);
    expect(fileBackend()).not.toBe(backend);
  });

  it('opens the directory a reference points into', async () => {
    await mkdir(join(dir, 'keys'));
    expect(await storeDir(join(dir, 'keys', 'release.key'))).toBe(join(dir, 'keys'));
    expect(await storeDir(`file:${dir}/keys/release.key`)).toBe(join(dir, 'keys'));
    expect(await storeDir(`file:${dir}/keys/`)).toBe(`${dir}/keys/`);
    expect(await storeDir(join(dir, 'keys'))).toBe(join(dir, 'keys'));
    expect(await storeDir(`file:`, { dir })).toBe(dir);
    expect(await storeDir(`file:`)).toBe(process.cwd());
  });

  it('names the key a reference points at: the base name without .key', () => {
    expect(backend.keyIdOf(parseKeyRef('keys/release.key'))).toBe('release');
    expect(backend.keyIdOf(parseKeyRef('file:/abs/cosign.key'))).toBe('cosign');
    expect(backend.keyIdOf(parseKeyRef('signing-key.pem'))).toBe('signing-key.pem');
    expect(backend.keyIdOf(parseKeyRef('file:keys/'))).toBe('');
  });

  it('generates the key a file reference names when no label is given', async () => {
    const manager = await backend.open(parseKeyRef(join(dir, 'named.key')), context());
    expect((await manager.generateKeyPair()).id).toBe('named');
    const store = await backend.open(parseKeyRef(`file:${dir}/`), context());
    expect((await store.generateKeyPair()).id).toBe('cosign');
  });

  it('KeyInfo.ref reopens the key through the registry, and keyIdOf(ref) is the id', async () => {
    await copyFile(fixture('cosign-labeled.key'), join(dir, 'vector.key'));
    // Listing reads the .pub beside a key (it never decrypts one): write it as `public-key --outfile` would.
    const writer = new BackendRegistry({ secrets: async () => 'hello', env: {} }).register(backend);
    try {
      const key = await writer.open(join(dir, 'vector.key'));
      await writeFile(join(dir, 'vector.pub'), await key.manager.getPublicKeyPem(key.keyId));
    } finally {
      await writer.close();
    }
    const registry = new BackendRegistry({ secrets: async () => 'hello', env: {} }).register(backend);
    try {
      const [info] = await (await registry.open(`file:${dir}/`)).manager.listKeys();
      expect(info!.ref).toBe(join(dir, 'vector.key'));
      const opened = await registry.open(info!.ref);
      expect(opened.keyId).toBe(info!.id);
      expect(await opened.manager.getPublicKeyPem(opened.keyId)).toBe(info!.publicKeyPem);
    } finally {
      await registry.close();
    }
  });
});
