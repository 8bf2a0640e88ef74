import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// keyBackendConformance end to end: vitest runs fixtures/broken-backends.fixture.ts in a child process and we
// read its JSON report. The wiring (not only the checks) must turn a broken backend into failed tests, skip by
// declared capability, and fail, not skip, what depends on a step that failed.

interface Assertion {
  ancestorTitles: string[];
  title: string;
  status: 'passed' | 'failed' | 'skipped' | 'pending' | 'todo';
  failureMessages: string[];
}

const FIXTURE_PASSWORD = `fixture-${process.pid}-password`;
const packageRoot = fileURLToPath(new URL('..', import.meta.url));
let dir: string;
let results: Assertion[] = [];
let exitCode: number | null = null;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'key-testkit-fixture-'));
  const report = join(dir, 'report.json');
  const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'),
  );
  env.COSIGN_PASSWORD = FIXTURE_PASSWORD;
  const child = spawnSync(
    process.execPath,
    [vitest, 'run', '--config', 'test/fixtures/vitest.fixture.config.ts', '--reporter=json', `--outputFile=${report}`],
    { cwd: packageRoot, env, encoding: 'utf8', timeout: 120_000 },
  );
  exitCode = child.status;
  const json = JSON.parse(readFileSync(report, 'utf8')) as { testResults: { assertionResults: Assertion[] }[] };
  results = json.testResults.flatMap((f) => f.assertionResults);
}, 150_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function statusesOf(suite: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of results) {
    if (r.ancestorTitles[0] !== `KeyBackend conformance: ${suite}`) continue;
    out[[...r.ancestorTitles.slice(1), r.title].join(' > ')] = r.status;
  }
  return out;
}

const failures = (statuses: Record<string, string>) =>
  Object.entries(statuses)
    .filter(([, s]) => s === 'failed')
    .map(([t]) => t)
    .sort();

describe('keyBackendConformance run against broken backends', () => {
  it('fails the run', () => {
    expect(exitCode).toBe(1);
  });

  it('fails exactly the tests a corrupt signer and an unlisting, probe-less store break', () => {
    const statuses = statusesOf('broken signer');
    expect(failures(statuses)).toEqual([
      'ecdsa-p256-sha256 > keeps the private key inside (capability extractable: false)',
      'ecdsa-p256-sha256 > lists the key with its algorithm, backend and fingerprint',
      'ecdsa-p256-sha256 > signs 32 requests at once, all valid',
      'ecdsa-p256-sha256 > signs; node:crypto verifies the signature',
      'ecdsa-p256-sha256 > verifySignature accepts its own signature and rejects tampering and other keys',
    ]);
    expect(statuses['ecdsa-p256-sha256 > generates a key under a fresh label']).toBe('passed');
    expect(statuses['ecdsa-p256-sha256 > refuses to delete (capability delete: false)']).toBe('skipped');
  });

  it('fails every key test of a read-only store that holds no key, and skips by capability', () => {
    const statuses = statusesOf('empty read-only store');
    expect(statuses['ed25519 > finds a key of this algorithm in the store (capability generate: false)']).toBe(
      'failed',
    );
    expect(statuses['ed25519 > signs; node:crypto verifies the signature']).toBe('failed');
    expect(statuses['contract > refuses to generate (capability generate: false)']).toBe('passed');
    expect(statuses['ed25519 > refuses a second key under a taken label (KEY_EXISTS)']).toBe('skipped');
    expect(statuses['ed25519 > deletes the key; it is gone (KEY_NOT_FOUND)']).toBe('skipped');
    expect(statuses['ed25519 > keeps the private key inside (capability extractable: false)']).toBe('skipped');
  });

  it('fails everything but the static checks, each with the reason, when the store cannot be opened', () => {
    const statuses = statusesOf('unopenable');
    const passed = Object.entries(statuses)
      .filter(([, s]) => s === 'passed')
      .map(([t]) => t)
      .sort();
    expect(passed).toEqual([
      'contract > declares specVersion 1, a name, schemes and consistent capabilities',
      'contract > serves the store reference and the selected algorithms',
    ]);
    expect(Object.values(statuses).filter((s) => s === 'failed').length).toBeGreaterThan(10);
    const failed = results.filter(
      (r) => r.ancestorTitles[0] === 'KeyBackend conformance: unopenable' && r.status === 'failed',
    );
    for (const r of failed)
      expect(r.failureMessages.join('\n')).toMatch(
        /opening the store failed: CosignkitError BACKEND_UNAVAILABLE: the device is unplugged/,
      );
  });

  it('fails the hygiene test of a backend that quotes its password, and prints no password', () => {
    const statuses = statusesOf('leaky');
    expect(failures(statuses)).toEqual([
      'ecdsa-p256-sha256 > refuses a digest of the wrong length (DIGEST_LENGTH)',
      'hygiene > never puts a password or PIN it was given into logs, error messages or KeyInfo',
    ]);
    const printed = results.flatMap((r) => r.failureMessages).join('\n');
    expect(printed).toMatch(/bad digest for key unlocked with REDACTED/);
    expect(printed).not.toContain(FIXTURE_PASSWORD);
  });
});
