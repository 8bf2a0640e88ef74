import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { CosignkitError, parseKeyRef, silentLogger, type KeyManager } from '@cosignkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';
import { requirePrivateSecretService } from './secret-service.js';

requirePrivateSecretService();

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const wrapper = join(packageDir, 'scripts', 'with-secret-service.sh');
const probe = ['node', '--import', './test/fixtures/ts-hooks.mjs', './test/fixtures/keyring-probe.ts'];

interface Outcome {
  op: string;
  code: string | null;
  ms: number;
  message?: string;
}

/** Runs the probe in a child; a child that hangs fails the test at `limitMs` (the "never a hang" guard). */
function runProbe(argv: string[], env: Record<string, string | undefined>, limitMs = 20_000): Promise<Outcome[]> {
  return new Promise((resolve, reject) => {
    execFile(
      argv[0]!,
      argv.slice(1),
      { cwd: packageDir, env: { ...process.env, ...env }, timeout: limitMs },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${argv.join(' ')} failed: ${error.message}\n${stderr}`));
        const last = stdout.trim().split('\n').at(-1) ?? '';
        resolve(JSON.parse(last) as Outcome[]);
      },
    );
  });
}

function expectAll(outcomes: Outcome[], code: string, limitMs = 1000): void {
  expect(outcomes.length).toBeGreaterThan(0);
  for (const outcome of outcomes) {
    expect({ op: outcome.op, code: outcome.code }).toEqual({ op: outcome.op, code });
    expect(outcome.ms, `${outcome.op} took ${outcome.ms.toFixed(0)} ms`).toBeLessThan(limitMs);
    expect(outcome.message).not.toMatch(/BEGIN PRIVATE KEY/);
  }
}

describe('no Secret Service: BACKEND_UNAVAILABLE within a second, never a fallback to another store', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cosignkit-keyring-nobus-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('with the session bus address pointing at a dead socket', async () => {
    const outcomes = await runProbe([...probe, 'unreachable'], {
      DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dir, 'no-bus-here')}`,
    });
    // keyring-rs's default store would have answered "no such entry" from the kernel keyring here.
    expectAll(outcomes, 'BACKEND_UNAVAILABLE');
  });

  it('on a live bus where nothing provides org.freedesktop.secrets', async () => {
    const config = join(packageDir, 'test', 'fixtures', 'bare-session-bus.conf');
    const outcomes = await runProbe(['dbus-run-session', `--config-file=${config}`, '--', ...probe, 'unreachable'], {
      XDG_DATA_HOME: dir,
      DBUS_SESSION_BUS_ADDRESS: undefined,
    });
    expectAll(outcomes, 'BACKEND_UNAVAILABLE');
  });
});

describe('a locked keyring: BACKEND_LOCKED within a second', () => {
  it('for reading, signing with, listing, generating and deleting keys (own daemon, locked over D-Bus)', async () => {
    const outcomes = await runProbe(['bash', wrapper, ...probe, 'locked'], {});
    expect(outcomes.map((o) => o.op)).toEqual([
      'getPublicKey',
      'signDigest',
      'listKeys',
      'generateKeyPair',
      'deleteKey',
    ]);
    expectAll(outcomes, 'BACKEND_LOCKED');
  });
});

describe('a Secret Service that does not answer: TIMEOUT, not a hang', () => {
  it('gives up after the configured time while a cached key still signs', async () => {
    const outcomes = await runProbe(['bash', wrapper, ...probe, 'stopped'], { COSIGNKIT_KEYRING_TIMEOUT_MS: '400' });
    expect(outcomes[0]).toMatchObject({ op: 'signDigest (key cached)', code: null });
    expect(outcomes[1]).toMatchObject({ op: 'listKeys', code: 'TIMEOUT' });
    expect(outcomes[1]!.ms).toBeGreaterThanOrEqual(390);
    expect(outcomes[1]!.ms).toBeLessThan(1000);
  });
});

describe('an unknown account: KEY_NOT_FOUND within a second', () => {
  let manager: KeyManager;
  beforeAll(async () => {
    manager = await backend.open(parseKeyRef('keyring:cosignkit-errors/'), {
      options: {},
      secrets: async () => '',
      logger: silentLogger,
      env: process.env,
    });
  });
  afterAll(async () => {
    await manager.close();
  });

  const digest = createHash('sha256').update('x').digest();
  for (const [op, run] of [
    ['getPublicKey', (m: KeyManager) => m.getPublicKey('no-such-account')],
    ['signDigest', (m: KeyManager) => m.signDigest('no-such-account', digest)],
    ['deleteKey', (m: KeyManager) => m.deleteKey('no-such-account')],
    ['the reserved index account', (m: KeyManager) => m.getPublicKeyPem('.cosignkit-index')],
  ] as const) {
    it(op, async () => {
      const start = performance.now();
      const error = await run(manager).then(
        () => undefined,
        (e: unknown) => e,
      );
      const ms = performance.now() - start;
      expect(CosignkitError.isInstance(error) && error.code).toBe('KEY_NOT_FOUND');
      expect((error as Error).message).toContain('keyring:cosignkit-errors/');
      expect(ms).toBeLessThan(1000);
    });
  }
});
