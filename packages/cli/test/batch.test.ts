import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, EMPTY_TRUSTED_ROOT, PASSWORD, cosign, cosignkit, expectOk, requireCosign, tempHome } from './helpers.js';

// Batch signing (issue 16) through the real CLI, checked by the real cosign: a file key, 1,000 files.
const COUNT = 1000;
let home: ReturnType<typeof tempHome>;
let dir: string;
const env = { COSIGN_PASSWORD: PASSWORD };

function makeFiles(root: string, count: number): string[] {
  mkdirSync(root, { recursive: true });
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = join(root, `f${String(i).padStart(4, '0')}.bin`);
    writeFileSync(name, randomBytes(1 + (i % 4096)));
    names.push(name);
  }
  return names;
}

function bundlesIn(root: string): string[] {
  return readdirSync(root).filter((n) => n.endsWith('.sigstore.json'));
}

beforeAll(async () => {
  requireCosign();
  home = tempHome();
  dir = home.dir;
  expectOk(await cosignkit(['generate-key-pair'], { cwd: dir, env }));
  writeFileSync(join(dir, 'root.json'), EMPTY_TRUSTED_ROOT);
});
afterAll(() => home?.cleanup());

describe('batch sign-blob / verify-blob with a file key', () => {
  it('signs 1,000 files in one command; cosign verifies a sample; one tampered file is reported, exit 2', async () => {
    makeFiles(join(dir, 'a'), COUNT);
    const signed = expectOk(await cosignkit(['sign-blob', '--key', 'cosign.key', '-r', 'a'], { cwd: dir, env }));
    // Piped stderr: the summary and nothing else; no stdout.
    expect(signed.stderr.trim().split('\n')).toHaveLength(1);
    expect(signed.stderr).toMatch(/^sign-blob: signed 1000 of 1000 in /);
    expect(signed.stdout).toBe('');
    expect(bundlesIn(join(dir, 'a'))).toHaveLength(COUNT);

    // The real cosign verifies every 20th file (50 of them), 5 at a time.
    const sample = Array.from({ length: 50 }, (_, i) => join('a', `f${String(i * 20).padStart(4, '0')}.bin`));
    for (let i = 0; i < sample.length; i += 5) {
      const runs = await Promise.all(
        sample
          .slice(i, i + 5)
          .map((file) =>
            cosign(
              [
                'verify-blob',
                '--key',
                'cosign.pub',
                '--bundle',
                `${file}.sigstore.json`,
                '--new-bundle-format',
                '--insecure-ignore-tlog',
                '--trusted-root',
                'root.json',
                file,
              ],
              { cwd: dir },
            ),
          ),
      );
      for (const run of runs) expect(run.code, run.stderr).toBe(0);
    }

    const verified = expectOk(await cosignkit(['verify-blob', '--key', 'cosign.pub', '-r', 'a'], { cwd: dir }));
    expect(verified.stderr).toMatch(/^verify-blob: verified 1000 of 1000 in /);

    appendFileSync(join(dir, 'a', 'f0777.bin'), 'tampered');
    const tampered = await cosignkit(['verify-blob', '--key', 'cosign.pub', '-r', 'a', '--json'], { cwd: dir });
    expect(tampered.code).toBe(2);
    const failing = tampered.stderr.split('\n').filter((l) => l.startsWith('cosignkit: '));
    expect(failing).toHaveLength(1);
    expect(failing[0]).toMatch(/^cosignkit: a\/f0777\.bin: .*\[VERIFICATION_FAILED\]$/);
    expect(tampered.stderr).toContain('verified 999, failed verification 1 of 1000');
    const lines = tampered.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { file: string; status: string });
    expect(lines).toHaveLength(COUNT);
    expect(lines.filter((l) => l.status !== 'ok')).toEqual([
      expect.objectContaining({ file: 'a/f0777.bin', status: 'unverified' }),
    ]);
  }, 300_000);

  it('globs, --files-from -, --output-dir (relative paths kept), --signatures; a missing file fails alone (exit 1)', async () => {
    makeFiles(join(dir, 'g'), 30);
    const list = `${['g/f0001.bin', 'g/f0002.bin', 'g/missing.bin'].join('\n')}\n`;
    const run = await cosignkit(
      ['sign-blob', '--key', 'cosign.key', '--output-dir', 'out', '--signatures', '--files-from', '-', 'g/f001*.bin'],
      { cwd: dir, env, input: list },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cosignkit: g\/missing\.bin: .*\[FILE_NOT_FOUND\]/);
    expect(run.stderr).toContain('signed 12, failed 1 of 13');
    const out = readdirSync(join(dir, 'out', 'g')).sort();
    expect(out).toContain('f0001.bin.sigstore.json');
    expect(out).toContain('f0010.bin.sig');
    expect(out.filter((n) => n.endsWith('.sigstore.json'))).toHaveLength(12);
    expect(out.filter((n) => n.endsWith('.sig'))).toHaveLength(12);
    const check = await cosignkit(
      ['verify-blob', '--key', 'cosign.pub', '--output-dir', 'out', 'g/f0001.bin', 'g/f0002.bin'],
      { cwd: dir },
    );
    expect(check.code, check.stderr).toBe(0);
    const sigs = await cosignkit(
      ['verify-blob', '--key', 'cosign.pub', '--output-dir', 'out', '--signatures', 'g/f001*.bin'],
      { cwd: dir },
    );
    expect(sigs.code, sigs.stderr).toBe(0);
    expect(sigs.stderr).toContain('verified 10 of 10');
  }, 120_000);

  it('killed mid-way (SIGKILL) and resumed with --skip-existing: every file signed once, all valid', async () => {
    makeFiles(join(dir, 'k'), COUNT);
    const child = spawn(CLI, ['sign-blob', '--key', 'cosign.key', '--jobs', '2', '-r', 'k'], {
      cwd: dir,
      env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: join(dir, '.config'), ...env },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 120_000;
    while (bundlesIn(join(dir, 'k')).length < 100 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await exited;
    const before = new Map(bundlesIn(join(dir, 'k')).map((n) => [n, statSync(join(dir, 'k', n)).mtimeMs]));
    expect(before.size).toBeGreaterThanOrEqual(100);
    expect(before.size).toBeLessThan(COUNT);

    const resumed = expectOk(
      await cosignkit(['sign-blob', '--key', 'cosign.key', '--skip-existing', '-r', 'k'], { cwd: dir, env }),
    );
    expect(resumed.stderr).toContain(`signed ${COUNT - before.size}, skipped ${before.size} of ${COUNT}`);
    for (const [name, mtime] of before) expect(statSync(join(dir, 'k', name)).mtimeMs).toBe(mtime);
    expect(bundlesIn(join(dir, 'k'))).toHaveLength(COUNT);
    const verified = expectOk(await cosignkit(['verify-blob', '--key', 'cosign.pub', '-r', 'k'], { cwd: dir }));
    expect(verified.stderr).toContain(`verified ${COUNT} of ${COUNT}`);
    // A second resume signs nothing.
    const again = expectOk(
      await cosignkit(['sign-blob', '--key', 'cosign.key', '--skip-existing', '-r', 'k'], { cwd: dir, env }),
    );
    expect(again.stderr).toContain(`signed 0, skipped ${COUNT} of ${COUNT}`);
  }, 300_000);

  it('on a terminal the progress bar is drawn (count, rate, ETA); piped, only the summary', () => {
    makeFiles(join(dir, 't'), 200);
    const tty = spawnSync('script', ['-qec', `${CLI} sign-blob --key cosign.key --jobs 1 -r t`, '/dev/null'], {
      cwd: dir,
      env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: join(dir, '.config'), ...env },
      encoding: 'utf8',
    });
    expect(tty.status, tty.stdout).toBe(0);
    expect(tty.stdout).toMatch(/\[[#-]{24}\] \d+\/200 \d+% \d+\/s ETA \d+:\d\d/);
    expect(tty.stdout).toContain('sign-blob: signed 200 of 200');
  }, 120_000);

  it('attest-blob with many files writes one attestation bundle per file', async () => {
    makeFiles(join(dir, 'at'), 20);
    writeFileSync(join(dir, 'pred.json'), '{"builder":"ci"}\n');
    const run = expectOk(
      await cosignkit(['attest-blob', '--key', 'cosign.key', '--predicate', 'pred.json', '-r', 'at'], {
        cwd: dir,
        env,
      }),
    );
    expect(run.stderr).toContain('attested 20 of 20');
    const file = join('at', 'f0003.bin');
    const check = await cosign(
      [
        'verify-blob-attestation',
        '--key',
        'cosign.pub',
        '--bundle',
        `${file}.att.sigstore.json`,
        '--new-bundle-format',
        '--insecure-ignore-tlog',
        '--trusted-root',
        'root.json',
        '--type',
        'custom',
        file,
      ],
      { cwd: dir },
    );
    expect(check.code, check.stderr).toBe(0);
  }, 120_000);
});
