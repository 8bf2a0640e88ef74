import { describe, expect, it } from 'vitest';
import { DESKTOP_TIMEOUT_MS, HEADLESS_TIMEOUT_MS, timeoutOf } from './keyring-backend.js';
import { keyringError } from './keyring-errors.js';

describe('the keyring call timeout', () => {
  it('comes from the config, then the environment', () => {
    expect(timeoutOf({ options: { timeoutMs: 250 }, env: { COSIGNKIT_KEYRING_TIMEOUT_MS: '900' } })).toBe(250);
    expect(timeoutOf({ options: {}, env: { COSIGNKIT_KEYRING_TIMEOUT_MS: '900' } })).toBe(900);
  });

  it.runIf(process.platform === 'linux')('is short without a desktop session and long with one', () => {
    expect(timeoutOf({ options: {}, env: {} })).toBe(HEADLESS_TIMEOUT_MS);
    expect(timeoutOf({ options: {}, env: { WAYLAND_DISPLAY: 'wayland-0' } })).toBe(DESKTOP_TIMEOUT_MS);
  });

  it('refuses nonsense (USAGE)', () => {
    expect(() => timeoutOf({ options: {}, env: { COSIGNKIT_KEYRING_TIMEOUT_MS: 'soon' } })).toThrow(/positive number/);
  });
});

describe('native keyring errors', () => {
  // The messages @napi-rs/keyring 2.1.2 gave on gnome-keyring (README §Errors).
  it.each([
    ["Couldn't access platform storage: Secret Service: unlock prompt was dismissed", 'BACKEND_LOCKED'],
    ['zbus error: org.freedesktop.Secret.Error.IsLocked: Cannot get secret of a locked object', 'BACKEND_LOCKED'],
    [
      'Platform failure: DBus error: Failed to connect to socket /tmp/x: No such file or directory',
      'BACKEND_UNAVAILABLE',
    ],
    [
      'Platform failure: DBus error: The name org.freedesktop.secrets was not provided by any .service files',
      'BACKEND_UNAVAILABLE',
    ],
    ['Platform failure: DBus error: Did not receive a reply.', 'BACKEND_UNAVAILABLE'],
    ["Couldn't access platform storage: AccessDenied", 'BACKEND_UNAVAILABLE'],
    ['Entry is matched by 2 credentials: Ambiguous', 'BACKEND_FAILURE'],
  ])('%s → %s', (message, code) => {
    const error = keyringError(Object.assign(new Error(message), { code: 'GenericFailure' }), 'reading keyring:s/a');
    expect(error.code).toBe(code);
    expect(error.message).toMatch(/^OS keyring: reading keyring:s\/a failed/);
    expect(error.message).not.toContain('\n');
    expect(error.cause).toBeInstanceOf(Error);
  });
});
