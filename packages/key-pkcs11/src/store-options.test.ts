import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseKeyRef, silentLogger, type BackendContext } from '@cosignkit/core';
import { parsePkcs11Uri } from './pkcs11-uri.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinSourcePath, resolveModulePath, resolvePin } from './store-options.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cosignkit-p11-options-'));
  await writeFile(join(dir, 'uri.pin'), 'from-uri\n');
  await writeFile(join(dir, 'config.pin'), 'from-config');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const context = (over: Partial<BackendContext> = {}): BackendContext => ({
  options: {},
  secrets: async () => 'from-secrets',
  logger: silentLogger,
  env: {},
  ...over,
});
const resolve = (text: string, over: Partial<BackendContext> = {}) => {
  const ref = parseKeyRef(text);
  return resolvePin(parsePkcs11Uri(ref), ref, context(over));
};

describe('the PIN', () => {
  it('comes from pin-value, pin-source, COSIGN_PKCS11_PIN, the config, then the secret provider', async () => {
    const all = { env: { COSIGN_PKCS11_PIN: 'from-env' }, options: { pinSource: `file:${join(dir, 'config.pin')}` } };
    expect(await resolve('pkcs11:token=a?pin-value=inline', all)).toBe('inline');
    expect(await resolve(`pkcs11:token=a?pin-source=file:${join(dir, 'uri.pin')}`, all)).toBe('from-uri');
    expect(await resolve('pkcs11:token=a', all)).toBe('from-env');
    expect(await resolve('pkcs11:token=a', { options: all.options })).toBe('from-config');
    expect(await resolve('pkcs11:token=a')).toBe('from-secrets');
  });

  it('tells the secret provider which token, without secrets', async () => {
    let subject = '';
    await resolve('pkcs11:token=a;object=k', {
      secrets: async (r) => {
        subject = `${r.kind} ${r.subject}`;
        return 'x';
      },
    });
    expect(subject).toBe('pin pkcs11:token=a;object=k');
  });

  it('reads pin-source as file:/abs, file:///abs or a bare path; refuses commands', () => {
    expect(pinSourcePath('file:/etc/pin', 'w')).toBe('/etc/pin');
    expect(pinSourcePath('file:///etc/pin', 'w')).toBe('/etc/pin');
    expect(pinSourcePath('/etc/pin', 'w')).toBe('/etc/pin');
    expect(() => pinSourcePath('|/bin/get-pin', 'w')).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED' }));
  });
});

describe('the module path', () => {
  const path = (text: string, over: Partial<BackendContext> = {}) => {
    const ref = parseKeyRef(text);
    return resolveModulePath(parsePkcs11Uri(ref), ref, context(over));
  };
  it('comes from module-path, COSIGN_PKCS11_MODULE_PATH, then the config', () => {
    const all = { env: { COSIGN_PKCS11_MODULE_PATH: '/env.so' }, options: { modulePath: '/config.so' } };
    expect(path('pkcs11:token=a?module-path=/uri.so', all)).toBe('/uri.so');
    expect(path('pkcs11:token=a', all)).toBe('/env.so');
    expect(path('pkcs11:token=a', { options: all.options })).toBe('/config.so');
    expect(() => path('pkcs11:token=a')).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});
