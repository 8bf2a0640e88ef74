import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '@cosignkit/core';
import { TEST_PASSWORD, defaultContext } from '../src/index.js';

describe('defaultContext', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('hands out COSIGN_PASSWORD and COSIGN_PKCS11_PIN when set, read at request time', async () => {
    const context = defaultContext();
    vi.stubEnv('COSIGN_PASSWORD', 'from-env-password');
    vi.stubEnv('COSIGN_PKCS11_PIN', 'from-env-pin');
    await expect(context.secrets({ kind: 'password', purpose: 'unlock', subject: 'k' })).resolves.toBe(
      'from-env-password',
    );
    await expect(context.secrets({ kind: 'pin', purpose: 'unlock', subject: 'k' })).resolves.toBe('from-env-pin');
  });

  it('falls back to the fixed test password, for passwords and PINs', async () => {
    vi.stubEnv('COSIGN_PASSWORD', undefined);
    vi.stubEnv('COSIGN_PKCS11_PIN', undefined);
    const context = defaultContext();
    await expect(context.secrets({ kind: 'password', purpose: 'create', subject: 'k' })).resolves.toBe(TEST_PASSWORD);
    await expect(context.secrets({ kind: 'pin', purpose: 'unlock', subject: 'k' })).resolves.toBe(TEST_PASSWORD);
  });

  it('has no options, a silent logger and process.env, each replaced by what the caller gives', async () => {
    const base = defaultContext();
    expect(base.options).toEqual({});
    expect(base.logger).toBe(silentLogger);
    expect(base.env).toBe(process.env);
    const env = { TCTI: 'swtpm:port=1' };
    const merged = defaultContext({ options: { token: 'ci' }, env, secrets: async () => 'given' });
    expect(merged.options).toEqual({ token: 'ci' });
    expect(merged.env).toBe(env);
    expect(merged.logger).toBe(silentLogger);
    await expect(merged.secrets({ kind: 'pin', purpose: 'unlock', subject: 'k' })).resolves.toBe('given');
  });
});
