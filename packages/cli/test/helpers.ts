import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = join(REPO_ROOT, 'bin', 'cosignkit');
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
/** The one password every test key uses: no output may ever contain it. */
export const PASSWORD = 's3cr3t-hunter2-pw';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  /** Extra environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Text piped on stdin; without it stdin is /dev/null. */
  input?: string;
}

/** A temp dir used as HOME and XDG_CONFIG_HOME, so no test reads or writes the real user's config. */
export function tempHome(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'cosignkit-cli-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function environment(cwd: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: cwd, XDG_CONFIG_HOME: join(cwd, '.config') };
  for (const name of ['COSIGN_PASSWORD', 'COSIGN_PKCS11_PIN', 'COSIGNKIT_DEBUG', 'COSIGN_EXPERIMENTAL'])
    delete env[name];
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Runs `file` (an executable) with the test environment. */
export function runProcess(file: string, args: string[], options: RunOptions): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: environment(options.cwd, options.env),
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    // A child may exit before reading all of its input (it refuses an oversized one): EPIPE is expected then.
    child.stdin?.on('error', () => undefined);
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** Runs the real, built CLI from the repository (bin/cosignkit). */
export function cosignkit(args: string[], options: RunOptions): Promise<Run> {
  return runProcess(CLI, args, options);
}

/** Runs the real cosign CLI (scripts/env.sh puts it on PATH). */
export function cosign(args: string[], options: RunOptions): Promise<Run> {
  return runProcess('cosign', args, options);
}

/**
 * The real cosign verifying a keyless bundle made on a local stack: the stack's trusted root, its identity and
 * issuer, no TUF (a private TUF_ROOT under `cwd`).
 */
export function cosignVerifiesKeyless(
  stack: { trustedRoot: string; identity: string; issuer: string },
  bundle: string,
  file: string,
  cwd: string,
): Promise<Run> {
  const args = ['verify-blob', '--new-bundle-format', '--trusted-root', stack.trustedRoot];
  args.push('--certificate-identity', stack.identity, '--certificate-oidc-issuer', stack.issuer);
  return cosign([...args, '--bundle', bundle, file], { cwd, env: { TUF_ROOT: join(cwd, 'tuf') } });
}

/** Fails loudly when the real cosign is missing: the interop tests mean nothing without it. */
export function requireCosign(): string {
  const result = spawnSync('cosign', ['version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error('the real cosign CLI is not on PATH: run the tests through scripts/test (or . scripts/env.sh)');
  }
  return /GitVersion:\s*(\S+)/.exec(result.stdout + result.stderr)?.[1] ?? 'unknown';
}

/** Expects a failed run: the exit code, one `cosignkit: … [CODE]` line on stderr, no stack, no secret. */
export function expectFailure(run: Run, exitCode: number, code?: string | RegExp): void {
  const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(run.code, `exit code; stderr: ${run.stderr}`).toBe(exitCode);
  expect(lines, `stderr should be one line: ${run.stderr}`).toHaveLength(1);
  expect(lines[0]).toMatch(/^cosignkit: .+ \[[A-Z_]+\]$/);
  if (typeof code === 'string') expect(lines[0]).toContain(`[${code}]`);
  else if (code) expect(lines[0]).toMatch(code);
  expectNoStackNoSecret(run);
}

export function expectNoStackNoSecret(run: Run): void {
  expect(run.stderr + run.stdout).not.toMatch(/^\s{4}at /m);
  expect(run.stderr + run.stdout).not.toContain(PASSWORD);
}

/** Asserts a run succeeded, printed no stack and no password; returns it for chaining. */
export function expectOk(run: Run): Run {
  expect(run.code, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`).toBe(0);
  expectNoStackNoSecret(run);
  return run;
}

/** The names in a directory, to prove a failed command left nothing behind (not even a temp file). */
export function listDir(dir: string): string[] {
  return readdirSync(dir).sort();
}

export const EMPTY_TRUSTED_ROOT = JSON.stringify({
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
});
