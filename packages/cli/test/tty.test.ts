import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, PASSWORD, tempHome } from './helpers.js';

// Prompts on a real pseudo-terminal: util-linux `script` gives the CLI a TTY, and the "typing" is fed to it.
let home: ReturnType<typeof tempHome>;
let dir: string;

beforeAll(() => {
  if (spawnSync('script', ['--version']).status !== 0)
    throw new Error('util-linux "script" is needed to test terminal prompts');
  home = tempHome();
  dir = home.dir;
  writeFileSync(join(dir, 'data.txt'), 'data');
});
afterAll(() => home?.cleanup());

/** Runs the CLI on a pty; each answer is typed after the prompt that asks for it appears. */
function onTerminal(args: string[], answers: string[]): Promise<{ code: number; output: string }> {
  const line = [CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir, XDG_CONFIG_HOME: join(dir, '.config') };
  delete env.COSIGN_PASSWORD;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', line, '/dev/null'], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let asked = 0;
    const onData = (data: Buffer) => {
      output += data.toString('utf8');
      const prompts = output.match(/(Enter (password|PIN) for [^\n]*: |\[y\/N\] )/g)?.length ?? 0;
      while (asked < prompts && asked < answers.length) child.stdin.write(`${answers[asked++]}\r`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      child.stdin.destroy();
      resolve({ code: code ?? -1, output: output.replace(/\r/g, '') });
    });
  });
}

describe('terminal prompts', () => {
  it('asks for a new password twice without echoing it, then for it once to sign', async () => {
    const made = await onTerminal(['generate-key-pair', '--output-key-prefix', 'tty'], [PASSWORD, PASSWORD]);
    expect(made.code, made.output).toBe(0);
    expect(made.output).toContain('Enter password for tty.key again: ');
    expect(made.output).not.toContain(PASSWORD);
    const signed = await onTerminal(['--engine', 'native', 'sign-blob', '--key', 'tty.key', 'data.txt'], [PASSWORD]);
    expect(signed.code, signed.output).toBe(0);
    expect(signed.output).toMatch(/^[A-Za-z0-9+/]{60,}={0,2}$/m);
    expect(signed.output).not.toContain(PASSWORD);
  });

  it('refuses two different passwords', async () => {
    const run = await onTerminal(['generate-key-pair', '--output-key-prefix', 'mismatch'], [PASSWORD, `${PASSWORD}x`]);
    expect(run.code).toBe(1);
    expect(run.output).toContain('do not match [USAGE]');
    expect(existsSync(join(dir, 'mismatch.key'))).toBe(false);
  });

  it('key delete asks first and keeps the key on "n"', async () => {
    const kept = await onTerminal(['key', 'delete', '--key', 'tty.key'], ['n']);
    expect(kept.code, kept.output).toBe(0);
    expect(existsSync(join(dir, 'tty.key'))).toBe(true);
    const gone = await onTerminal(['key', 'delete', '--key', 'tty.key'], ['y']);
    expect(gone.code, gone.output).toBe(0);
    expect(existsSync(join(dir, 'tty.key'))).toBe(false);
  });

  it('clean asks first on a terminal and touches nothing on "n"; --yes and -f do not ask (issue 17)', async () => {
    // Nothing listens on port 9: answering "n" must end the command before any registry is contacted.
    const kept = await onTerminal(['clean', '127.0.0.1:9/never/contacted:v1'], ['n']);
    expect(kept.code, kept.output).toBe(0);
    expect(kept.output).toContain('[y/N] ');
    expect(kept.output).toContain('Not removed');
    for (const flag of ['--yes', '-f', '-y', '--force']) {
      const run = await onTerminal(['clean', flag, '--registry-timeout', '2s', '127.0.0.1:9/never/contacted:v1'], []);
      expect(run.output, flag).not.toContain('[y/N]');
      expect(run.output, flag).not.toContain('[USAGE]');
      expect(run.code, flag).toBe(1); // it went on to the (absent) registry
    }
  });
});
