// Shared measuring tools for the bench files: wall time of child processes (median of N), in-process rates.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(fileURLToPath(import.meta.url), '../../..');

/** The run's tools; `dir` is a directory made by the createContext() of the run (bench/run.mjs) to share. */
export async function createContext({ dir } = {}) {
  const owned = dir === undefined;
  if (owned) dir = await mkdtemp(join(tmpdir(), 'cosignkit-bench-'));
  return {
    root,
    dir,
    cosignkit: await installedCommand(dir, owned),
    /** Median wall time in ms of running argv `runs` times (after one warm-up). */
    timeProcess(argv, { runs = 10, env = {}, input, cwd = dir } = {}) {
      const times = [];
      for (let i = 0; i <= runs; i++) {
        const start = process.hrtime.bigint();
        const r = spawnSync(argv[0], argv.slice(1), {
          env: { ...process.env, ...env },
          input,
          cwd,
          stdio: ['pipe', 'ignore', 'pipe'],
        });
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
        if (i > 0) times.push(ms);
      }
      return median(times);
    },
    /** Operations per second of an async function, run for about `seconds`. */
    async rate(fn, { seconds = 2, concurrency = 1 } = {}) {
      const end = performance.now() + seconds * 1000;
      let count = 0;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < end) {
            await fn();
            count++;
          }
        }),
      );
      return count / ((performance.now() - start) / 1000);
    },
    fmt: {
      ms: (v) => `${v.toFixed(1)} ms`,
      rate: (v) => `${Math.round(v).toLocaleString('en')}/s`,
      ratio: (v) => `${v.toFixed(2)}×`,
    },
    async close() {
      if (owned) await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The CLI as npm installs it: `node_modules/.bin/cosignkit`, a symlink to the package's bin file, run through
 * its `#!/usr/bin/env sh` prelude (which starts `node` with huge pages for glibc's malloc) with the project's Node first
 * on PATH (as after `source scripts/env.sh`). Not the checkout's bin/cosignkit, which a user's install lacks.
 */
async function installedCommand(dir, install) {
  const bin = join(dir, 'node_modules', '.bin');
  const command = join(bin, 'cosignkit');
  if (install) {
    await mkdir(bin, { recursive: true });
    await symlink(join(root, 'packages', 'cli', 'dist', 'bin', 'cosignkit.cjs'), command);
  }
  const nodeDir = join(root, '.tools', 'bin');
  const path = process.env.PATH ?? '';
  if (path.split(delimiter)[0] !== nodeDir) process.env.PATH = `${nodeDir}${delimiter}${path}`;
  return command;
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * A row's goal as BENCHMARKS.md shows it: marked unreachable when the floor measured in the same run already
 * misses it, for then no implementation can meet it there.
 */
export function goalAgainstFloor(goal, belowFloor) {
  return belowFloor ? `${goal} (below the floor: unreachable)` : goal;
}

/**
 * A floor command (`[node, script, ...args]`) started as the bin starts Node (packages/cli/tsup.config.ts):
 * glibc's malloc asking for transparent huge pages and V8's young generation at 4 MiB semi-spaces, so a
 * floor with scrypt measures the same allocator and heap the CLI runs with.
 */
export function asTheBinStartsNode([node, ...rest]) {
  return ['env', 'GLIBC_TUNABLES=glibc.malloc.hugetlb=1', node, '--min-semi-space-size=4', ...rest];
}
