import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** The tests run the built CLI; (re)build it when a source file is newer than the bin. */
export default function setup(): void {
  const bin = join(packageDir, 'dist', 'bin', 'cosignkit.cjs');
  let built = 0;
  try {
    built = statSync(bin).mtimeMs;
  } catch {
    // not built yet
  }
  if (built > 0 && newest(join(packageDir, 'src')) <= built) return;
  const result = spawnSync('pnpm', ['run', 'build'], { cwd: packageDir, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`building the CLI failed (pnpm run build in ${packageDir}):\n${result.stdout}\n${result.stderr}`);
  }
}

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}
