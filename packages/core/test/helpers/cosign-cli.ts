import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locateCosign } from '../../src/index.js';

/** The real cosign CLI. Tests that need it fail loudly without it: they are never skipped. */
export async function requireCosign(): Promise<string> {
  const path = await locateCosign();
  if (!path)
    throw new Error(
      'these tests need the real cosign CLI: run `. scripts/env.sh` (it puts .tools/cosign on PATH) or set COSIGN_PATH',
    );
  return path;
}

export interface CosignRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs cosign directly (not through the runner under test), secrets only by environment. */
export function cosign(path: string, args: string[], env: Record<string, string> = {}, cwd?: string): CosignRun {
  try {
    const stdout = execFileSync(path, args, {
      cwd,
      env: { ...process.env, COSIGN_PASSWORD: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    return { status: 0, stdout, stderr: '' };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { status: e.status ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'cosignkit-core-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `cosign generate-key-pair` in `dir`: cosign.key (encrypted with `password`) and cosign.pub. */
export function cosignKeyPair(cosignPath: string, dir: string, password: string): { key: string; pub: string } {
  const run = cosign(cosignPath, ['generate-key-pair'], { COSIGN_PASSWORD: password }, dir);
  if (run.status !== 0) throw new Error(`cosign generate-key-pair failed: ${run.stderr}`);
  return { key: join(dir, 'cosign.key'), pub: join(dir, 'cosign.pub') };
}
