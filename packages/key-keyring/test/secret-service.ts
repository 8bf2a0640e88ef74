import { execFileSync } from 'node:child_process';

/**
 * Tests run only under scripts/with-secret-service.sh (`pnpm test` does that): it starts a private bus and
 * a throw-away keyring and exports the daemon's PID. Refusing otherwise keeps tests off a user's own keyring.
 */
export function requirePrivateSecretService(): void {
  if (!process.env.COSIGNKIT_SECRET_SERVICE_PID || !process.env.DBUS_SESSION_BUS_ADDRESS) {
    throw new Error(
      'run these tests through scripts/with-secret-service.sh (pnpm --filter @cosignkit/key-keyring test)',
    );
  }
}

/** Locks the login collection of the private keyring (what a screen lock or `secret-tool lock` does). */
export function lockLoginCollection(): void {
  execFileSync('dbus-send', [
    '--session',
    '--print-reply',
    '--dest=org.freedesktop.secrets',
    '/org/freedesktop/secrets',
    'org.freedesktop.Secret.Service.Lock',
    'array:objpath:/org/freedesktop/secrets/collection/login',
  ]);
}
