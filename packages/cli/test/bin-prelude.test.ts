import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, REPO_ROOT, cosignkit, expectOk, runProcess, tempHome } from './helpers.js';

// The installed bin (package.json `bin`) opens with an sh prelude that starts Node with glibc's malloc
// asking for huge pages (packages/cli/tsup.config.ts): scrypt's 64 MiB then costs ~32 page faults, not 16,000.
// It must run however a package manager starts it, keep the user's own tunables (after ours, so theirs win),
// and reach the scrypt of a key-file signature. It also starts V8's young generation at 4 MiB semi-spaces, so a
// one-shot command ends before its first scavenge, unless the user caps them.
const BIN = join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin', 'cosignkit.cjs');
const home = tempHome();
const dir = home.dir;
// A preload that writes what Node was started with, its page faults and its young generation's size when it exits.
const preload = join(dir, 'report.cjs');
const report = join(dir, 'report.json');
const reported = () =>
  JSON.parse(readFileSync(report, 'utf8')) as { tunables?: string; faults: number; newSpace: number };
const MIB = 1024 * 1024;

beforeAll(async () => {
  writeFileSync(
    preload,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify(
      { tunables: process.env.GLIBC_TUNABLES, faults: process.resourceUsage().minorPageFault,
        newSpace: require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size })));\n`,
  );
  writeFileSync(join(dir, 'file.txt'), 'the prelude test\n');
  expectOk(await cosignkit(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: PASSWORD } }));
  // npm links the bin into node_modules/.bin; the kernel then runs its #! line.
  symlinkSync(BIN, join(dir, 'cosignkit'));
}, 60_000);
afterAll(() => home.cleanup());

const withReport = (extra: Record<string, string | undefined> = {}) => ({
  cwd: dir,
  env: { NODE_OPTIONS: `--require ${preload}`, GLIBC_TUNABLES: undefined, ...extra },
});

describe("the installed bin's sh prelude", () => {
  it('runs as npm links it, as pnpm’s shim starts it (sh FILE), and as `node FILE`', async () => {
    for (const [file, args] of [
      [join(dir, 'cosignkit'), ['version']],
      ['sh', [BIN, 'version']],
      [process.execPath, [BIN, 'version']],
    ] as const) {
      expect(expectOk(await runProcess(file, [...args], withReport())).stdout).toMatch(/^cosignkit \d/);
    }
  });

  it('starts Node with huge pages for malloc, and the user’s own tunables after it', async () => {
    expectOk(await runProcess(join(dir, 'cosignkit'), ['version'], withReport()));
    expect(reported().tunables).toBe('glibc.malloc.hugetlb=1');
    expectOk(
      await runProcess(join(dir, 'cosignkit'), ['version'], withReport({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' })),
    );
    expect(reported().tunables).toBe('glibc.malloc.hugetlb=1:glibc.malloc.hugetlb=0');
  });

  it('starts V8’s young generation at 4 MiB semi-spaces, under a cap the user sets', async () => {
    expectOk(await runProcess(join(dir, 'cosignkit'), ['version'], withReport()));
    expect(reported().newSpace).toBeGreaterThanOrEqual(4 * MIB);
    // And no more: a larger young generation costs every start page faults of its own (tsup.config.ts).
    expect(reported().newSpace).toBeLessThan(8 * MIB);
    // Started by `node` itself, without the prelude: V8's default (1 MiB here), which the first check is not.
    expectOk(await runProcess(process.execPath, [BIN, 'version'], withReport()));
    expect(reported().newSpace).toBeLessThan(4 * MIB);
    const capped = { NODE_OPTIONS: `--require ${preload} --max-semi-space-size=1` };
    expectOk(await runProcess(join(dir, 'cosignkit'), ['version'], withReport(capped)));
    expect(reported().newSpace).toBeLessThanOrEqual(1 * MIB);
  });

  // Only where the kernel grants huge pages on request (THP "madvise" or "always") and libc is glibc.
  const thp = (() => {
    try {
      return /\[(madvise|always)\]/.test(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'));
    } catch {
      return false;
    }
  })();
  const glibc = Boolean(
    (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })?.header?.glibcVersionRuntime,
  );
  it.runIf(thp && glibc)(
    'gives a key-file sign-blob’s scrypt huge pages: far fewer than 16,000 page faults',
    async () => {
      const sign = [
        'sign-blob',
        '--engine',
        'native',
        '--key',
        'cosign.key',
        '--output-signature',
        'file.sig',
        'file.txt',
      ];
      expectOk(await runProcess(join(dir, 'cosignkit'), sign, withReport({ COSIGN_PASSWORD: PASSWORD })));
      const huge = reported().faults;
      const small = { COSIGN_PASSWORD: PASSWORD, GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' };
      expectOk(await runProcess(join(dir, 'cosignkit'), sign, withReport(small)));
      const base = reported().faults;
      // 64 MiB in 4 KiB pages is 16,384 faults on its own; in 2 MiB pages, 32.
      expect(base - huge, `faults: ${huge} with huge pages, ${base} without`).toBeGreaterThan(10_000);
    },
    60_000,
  );
});
