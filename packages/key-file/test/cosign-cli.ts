import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The real cosign: COSIGN_PATH, else PATH. Interop tests fail loudly without it; they never skip. */
export function findCosign(): string {
  const candidates = [
    ...(process.env.COSIGN_PATH ? [process.env.COSIGN_PATH] : []),
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((d) => join(d, 'cosign')),
  ];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error('the real cosign CLI is required for the interop tests: run `. scripts/env.sh` or set COSIGN_PATH');
}

export interface CosignRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs cosign with an argv array; the password only ever goes through COSIGN_PASSWORD. */
export function runCosign(args: string[], options: { cwd: string; password?: string }): Promise<CosignRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, TUF_ROOT: join(options.cwd, '.tuf') };
  delete env.COSIGN_PASSWORD;
  if (options.password !== undefined) env.COSIGN_PASSWORD = options.password;
  return new Promise((resolve) => {
    execFile(findCosign(), args, { cwd: options.cwd, env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
