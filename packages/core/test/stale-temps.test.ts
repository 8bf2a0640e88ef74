import { spawn } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitOutputs, removeStaleTemps, writeFileAtomic } from '../src/index.js';

// Issue 11: kill -9 during a write leaves `.<name>.<pid>.<hex>.tmp` beside the output. A later write into the
// same directory removes it, but only when it is certainly stale (our pattern, a regular file of this user,
// old, its writer dead) and never through a symbolic link.
const WORKER = fileURLToPath(new URL('./helpers/atomic-write-worker.mjs', import.meta.url));
const HOUR = 60 * 60 * 1000;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cosignkit-stale-temps-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const temps = () => readdirSync(dir).filter((n) => n.endsWith('.tmp'));
const age = (name: string, ms: number) => {
  const when = new Date(Date.now() - ms);
  utimesSync(join(dir, name), when, when);
};

/** Runs the worker and kills it with SIGKILL as soon as its temp file exists. */
async function killMidWrite(target: string): Promise<string> {
  const child = spawn(process.execPath, [WORKER, target, '64'], { stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const deadline = Date.now() + 20_000;
  while (temps().length === 0) {
    if (Date.now() > deadline) throw new Error('the worker never created its temp file');
    await new Promise((r) => setTimeout(r, 5));
  }
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  const left = temps();
  expect(left).toHaveLength(1);
  expect(left[0]).toMatch(new RegExp(`^\\.out\\.json\\.${child.pid}\\.[0-9a-f]{12}\\.tmp$`));
  return left[0]!;
}

describe('stale temp files after kill -9', () => {
  it('a killed writer leaves its temp; the next write in the directory removes it once it is old', async () => {
    const target = join(dir, 'out.json');
    const temp = await killMidWrite(target);
    // Young: kept (its writer might still be running elsewhere), even though the pid is dead.
    await writeFileAtomic(join(dir, 'other-1.json'), 'x', { mode: 0o644 });
    expect(temps()).toEqual([temp]);
    // Old and dead: removed by the next run's first write into the directory.
    age(temp, 2 * HOUR);
    expect(await removeStaleTemps(dir)).toEqual([temp]);
    expect(temps()).toEqual([]);
  });

  it('the atomic writer and commitOutputs clean the directory they write into (once per process)', async () => {
    const sub = join(dir, 'a');
    const sub2 = join(dir, 'b');
    for (const d of [sub, sub2]) mkdirSync(d);
    const stale = (d: string) => {
      const name = `.out.json.999999999.0123456789ab.tmp`;
      writeFileSync(join(d, name), 'partial');
      const when = new Date(Date.now() - 2 * HOUR);
      utimesSync(join(d, name), when, when);
      return name;
    };
    stale(sub);
    stale(sub2);
    await writeFileAtomic(join(sub, 'out.json'), 'whole', { mode: 0o644 });
    await commitOutputs([{ path: join(sub2, 'out.json'), data: 'whole' }]);
    expect(readdirSync(sub)).toEqual(['out.json']);
    expect(readdirSync(sub2)).toEqual(['out.json']);
  });

  it('keeps what is not certainly a stale temp of ours: a symlink, another pattern, a live pid, a fresh file', async () => {
    const old = (name: string) => {
      writeFileSync(join(dir, name), 'x');
      age(name, 2 * HOUR);
      return name;
    };
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'keep me');
    symlinkSync(victim, join(dir, '.link.json.999999999.0123456789ab.tmp'));
    const other = [
      old('.notes.tmp'), // not our pattern
      old('data.json.999999999.0123456789ab.tmp'), // no leading dot
      old(`.live.json.${process.pid}.0123456789ab.tmp`), // its writer (this process) is alive
      old('.x.json.999999999.0123456789AB.tmp'), // upper-case hex: not ours
    ];
    writeFileSync(join(dir, '.fresh.json.999999999.0123456789ab.tmp'), 'x');
    expect(await removeStaleTemps(dir)).toEqual([]);
    for (const name of [...other, '.fresh.json.999999999.0123456789ab.tmp'])
      expect(lstatSync(join(dir, name)).isFile()).toBe(true);
    expect(lstatSync(join(dir, '.link.json.999999999.0123456789ab.tmp')).isSymbolicLink()).toBe(true);
    expect(lstatSync(victim).isFile()).toBe(true);
  });
});
