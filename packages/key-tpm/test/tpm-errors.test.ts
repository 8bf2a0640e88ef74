import { createHash, verify } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CosignkitError, parseKeyRef } from '@cosignkit/core';
import { backend, type TpmKeyManager } from '../src/index.js';
import { testContext } from './context.js';
import { startSwtpm, type Swtpm } from './swtpm-harness.js';

const run = promisify(execFile);

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (CosignkitError.isInstance(error)) return `${error.code}: ${error.message}`;
    throw error;
  }
  throw new Error('expected a CosignkitError, got success');
}

describe('tpm backend: errors with stable codes', () => {
  let tpm: Swtpm;
  let home: string;
  let manager: TpmKeyManager;

  beforeAll(async () => {
    tpm = await startSwtpm();
    home = await mkdtemp(join(tmpdir(), 'cosignkit-tpm-home-'));
    manager = (await backend.open(parseKeyRef(`tpm:?tcti=${tpm.tcti}`), testContext(home))) as TpmKeyManager;
    await manager.generateKeyPair({ label: 'known' });
  });

  afterAll(async () => {
    await manager?.close();
    await tpm?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('signs a SHA-256 digest with a DER signature the public key verifies', async () => {
    const message = Buffer.from('hello tpm');
    const signature = await manager.signDigest('known', createHash('sha256').update(message).digest());
    expect(signature[0]).toBe(0x30);
    expect(
      verify('sha256', message, { key: await manager.getPublicKeyPem('known'), dsaEncoding: 'der' }, signature),
    ).toBe(true);
  });

  it('signWith "fapi" (Fapi_Sign) makes signatures the same key verifies, and refuses a bad option', async () => {
    const viaFapi = await backend.open(parseKeyRef(`tpm:?tcti=${tpm.tcti}`), testContext(home, { signWith: 'fapi' }));
    try {
      const message = Buffer.from('through Fapi_Sign');
      const signature = await viaFapi.signDigest('known', createHash('sha256').update(message).digest());
      expect(await manager.verifySignature('known', signature, message)).toBe(true);
    } finally {
      await viaFapi.close();
    }
    expect(
      await codeOf(backend.open(parseKeyRef(`tpm:?tcti=${tpm.tcti}`), testContext(home, { signWith: 'pkcs11' }))),
    ).toMatch(/^USAGE/);
  });

  it('keeps signing across a TPM reset (saved contexts die with it; the key is loaded again)', async () => {
    const before = await manager.signDigest('known', new Uint8Array(32));
    await run('swtpm_ioctl', ['--tcp', `127.0.0.1:${tpm.ctrlPort}`, '-i']);
    await run('tpm2_startup', ['-c', '-T', tpm.tcti], { env: { ...process.env, TSS2_LOG: 'all+NONE' } }).catch(
      () => undefined,
    );
    const message = Buffer.from('after the reset');
    const after = await manager.signDigest('known', createHash('sha256').update(message).digest());
    expect(await manager.verifySignature('known', after, message)).toBe(true);
    expect(before.length).toBeGreaterThan(60);
  });

  it('an unknown key name is KEY_NOT_FOUND', async () => {
    expect(await codeOf(manager.signDigest('nope', new Uint8Array(32)))).toMatch(/^KEY_NOT_FOUND: .*"nope"/);
    expect(await codeOf(manager.getPublicKeyPem('nope'))).toMatch(/^KEY_NOT_FOUND/);
    expect(await codeOf(manager.deleteKey('nope'))).toMatch(/^KEY_NOT_FOUND/);
  });

  it('a digest of the wrong length is DIGEST_LENGTH (FAPI itself would sign it)', async () => {
    expect(await codeOf(manager.signDigest('known', new Uint8Array(20)))).toMatch(/^DIGEST_LENGTH: .*32-byte/);
    expect(await codeOf(manager.signDigest('known', new Uint8Array(48)))).toMatch(/^DIGEST_LENGTH/);
  });

  it('a second key with a taken name is KEY_EXISTS, whatever its curve', async () => {
    expect(await codeOf(manager.generateKeyPair({ label: 'known', algorithm: 'ecdsa-p384-sha384' }))).toMatch(
      /^KEY_EXISTS/,
    );
  });

  it('a reference the backend cannot read is KEY_REF_INVALID', async () => {
    expect(() => backend.keyIdOf(parseKeyRef('tpm:a/b'))).toThrow(/TPM key name/);
    expect(await codeOf(backend.open(parseKeyRef('tpm:x?curve=p521'), testContext(home)))).toMatch(/^KEY_REF_INVALID/);
    expect(await codeOf(backend.open(parseKeyRef('tpm:x?color=red'), testContext(home)))).toMatch(/^KEY_REF_INVALID/);
  });

  it('an unprovisioned store lists nothing and finds no key', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'cosignkit-tpm-home-'));
    const other = await backend.open(parseKeyRef(`tpm:?tcti=${tpm.tcti}`), testContext(fresh));
    try {
      expect(await other.listKeys()).toEqual([]);
      expect(await codeOf(other.getPublicKeyPem('known'))).toMatch(/^KEY_NOT_FOUND/);
    } finally {
      await other.close();
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('swtpm down is BACKEND_UNAVAILABLE, on open and on a manager already open', async () => {
    const down = await startSwtpm();
    const downHome = await mkdtemp(join(tmpdir(), 'cosignkit-tpm-home-'));
    try {
      const opened = await backend.open(parseKeyRef(`tpm:?tcti=${down.tcti}`), testContext(downHome));
      const info = await opened.generateKeyPair({ label: 'k' });
      await opened.signDigest(info.id, new Uint8Array(32)); // the ESYS connection is open now
      const idle = await backend.open(parseKeyRef(`tpm:?tcti=${down.tcti}`), testContext(downHome));
      await down.kill();
      expect(await codeOf(opened.signDigest(info.id, new Uint8Array(32)))).toMatch(
        /^BACKEND_UNAVAILABLE: .*cannot reach the TPM/,
      );
      expect(await codeOf(idle.signDigest(info.id, new Uint8Array(32)))).toMatch(
        /^BACKEND_UNAVAILABLE: .*cannot reach the TPM/,
      );
      await opened.close();
      await idle.close();
      expect(await codeOf(backend.open(parseKeyRef(`tpm:?tcti=${down.tcti}`), testContext(downHome)))).toMatch(
        /^BACKEND_UNAVAILABLE: .*swtpm:host=127\.0\.0\.1/,
      );
    } finally {
      await down.stop();
      await rm(downHome, { recursive: true, force: true });
    }
  });

  it('a store that cannot be provisioned (owner hierarchy with a password) is BACKEND_UNAVAILABLE', async () => {
    const locked = await startSwtpm();
    const lockedHome = await mkdtemp(join(tmpdir(), 'cosignkit-tpm-home-'));
    const authFile = join(lockedHome, 'owner-auth');
    await writeFile(authFile, 'owner-secret', { mode: 0o600 });
    await run('tpm2_changeauth', ['-T', locked.tcti, '-c', 'owner', `file:${authFile}`], {
      env: { ...process.env, TSS2_LOG: 'all+NONE' },
    });
    const opened = await backend.open(parseKeyRef(`tpm:?tcti=${locked.tcti}`), testContext(lockedHome));
    try {
      const failure = await codeOf(opened.generateKeyPair({ label: 'k' }));
      expect(failure).toMatch(/^BACKEND_UNAVAILABLE: .*not provisioned.*owner hierarchy has a password/);
      expect(failure).not.toContain('owner-secret');
      expect(await opened.listKeys()).toEqual([]);
    } finally {
      await opened.close();
      await locked.stop();
      await rm(lockedHome, { recursive: true, force: true });
    }
  });
});
