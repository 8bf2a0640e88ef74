import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, PASSWORD, cosignkit, expectFailure, expectNoStackNoSecret, listDir, tempHome } from './helpers.js';

let home: ReturnType<typeof tempHome>;
let dir: string;

beforeAll(() => {
  home = tempHome();
  dir = home.dir;
});
afterAll(() => home.cleanup());

describe('the command line', () => {
  it('stops writing quietly when its reader has gone (`cosignkit --help | head -0`): exit 0, nothing on stderr', async () => {
    const child = spawn(CLI, ['--help'], {
      cwd: dir,
      env: { ...process.env, HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy(); // the reader closes its end before the CLI writes a byte
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('prints general help listing every command, exit 0', async () => {
    const run = await cosignkit(['--help'], { cwd: dir });
    expect(run.code).toBe(0);
    for (const name of [
      'generate-key-pair',
      'import-key-pair',
      'public-key',
      'sign-blob',
      'verify-blob',
      'version',
      'key generate',
      'key list',
      'key set-default',
      'key delete',
    ]) {
      expect(run.stdout).toContain(`  ${name} `);
    }
    expect(run.stdout).not.toContain('cannot load');
    expect(run.stdout).toContain('Exit codes');
  });

  it("prints a command's help with --help or -h anywhere on the line", async () => {
    for (const args of [
      ['sign-blob', '--help'],
      ['--help', 'sign-blob'],
      ['sign-blob', '--key', 'x', '-h', 'file'],
    ]) {
      const run = await cosignkit(args, { cwd: dir });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Usage: cosignkit sign-blob');
      expect(run.stdout).toContain('--output-signature');
    }
    const group = await cosignkit(['key', '--help'], { cwd: dir });
    expect(group.code).toBe(0);
    expect(group.stdout).toContain('key set-default');
    const sub = await cosignkit(['key', 'generate', '--help'], { cwd: dir });
    expect(sub.stdout).toContain('--algorithm');
  });

  it('prints the version (text and JSON)', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const text = await cosignkit(['version'], { cwd: dir });
    expect(text).toMatchObject({ code: 0, stdout: `cosignkit ${pkg.version}\n`, stderr: '' });
    const flag = await cosignkit(['--version'], { cwd: dir });
    expect(flag.stdout).toBe(`cosignkit ${pkg.version}\n`);
    const json = await cosignkit(['version', '--json'], { cwd: dir });
    expect(JSON.parse(json.stdout)).toMatchObject({ version: pkg.version });
  });

  it('refuses an unknown command, flag or engine with one line and a hint, exit 1', async () => {
    const command = await cosignkit(['sing-blob'], { cwd: dir });
    expectFailure(command, 1, 'USAGE');
    expect(command.stderr).toContain('--help');
    const flag = await cosignkit(['sign-blob', '--kee', 'x', 'f'], { cwd: dir });
    expectFailure(flag, 1, 'USAGE');
    expect(flag.stderr).toContain('unknown flag --kee');
    expect(flag.stderr).toContain('cosignkit sign-blob --help');
    expectFailure(await cosignkit(['--engine', 'gpg', 'version'], { cwd: dir }), 1, 'USAGE');
    expectFailure(await cosignkit(['--bogus'], { cwd: dir }), 1, 'USAGE');
    expectFailure(await cosignkit(['key'], { cwd: dir }), 1, 'USAGE');
    expectFailure(await cosignkit(['key', 'rotate'], { cwd: dir }), 1, 'USAGE');
    expectFailure(await cosignkit(['sign-blob', '--key', 'k.key'], { cwd: dir }), 1, /missing the file to sign/);
    expectFailure(await cosignkit(['sign-blob', '--yes=maybe', 'f'], { cwd: dir }), 1, /takes true or false/);
  });

  it('prints errors as JSON on stdout with --json, with the same exit code', async () => {
    const run = await cosignkit(['--json', 'sign-blob', '--bogus', 'f'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({ error: { code: 'USAGE', message: expect.stringContaining('--bogus') } });
  });

  it('--tlog-upload=true with a key signs with a log, which needs --bundle (keyless-sign.test.ts uploads)', async () => {
    writeFileSync(join(dir, 'any.txt'), 'x');
    for (const flag of ['--tlog-upload=true', '--tlog-upload', '--use-signing-config=true']) {
      const run = await cosignkit(['sign-blob', '--key', 'none.key', flag, 'any.txt'], { cwd: dir });
      expectFailure(run, 1, 'USAGE');
      expect(run.stderr).toContain('pass --bundle');
    }
  });

  it('shows a stack only with COSIGNKIT_DEBUG=1', async () => {
    const run = await cosignkit(['public-key', '--key', 'missing.key'], { cwd: dir, env: { COSIGNKIT_DEBUG: '1' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^\s{4}at /m);
  });
});

describe('passwords', () => {
  it('says PASSWORD_REQUIRED when there is no COSIGN_PASSWORD, no terminal and no piped stdin', async () => {
    const run = await cosignkit(['generate-key-pair', '--output-key-prefix', 'nopw'], { cwd: dir });
    expectFailure(run, 1, 'PASSWORD_REQUIRED');
    expect(existsSync(join(dir, 'nopw.key'))).toBe(false);
  });

  it('takes an empty COSIGN_PASSWORD as a password', async () => {
    const run = await cosignkit(['generate-key-pair', '--output-key-prefix', 'empty'], {
      cwd: dir,
      env: { COSIGN_PASSWORD: '' },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(dir, 'empty.key'))).toBe(true);
  });

  it('reads all of stdin less one trailing newline (echo s3cret |)', async () => {
    const made = await cosignkit(['generate-key-pair', '--output-key-prefix', 'piped'], {
      cwd: dir,
      input: `${PASSWORD}\n`,
    });
    expect(made.code, made.stderr).toBe(0);
    expectNoStackNoSecret(made);
    writeFileSync(join(dir, 'data.txt'), 'data');
    // The key's password is PASSWORD itself: the same from the environment, piped bare or piped with \r\n.
    for (const how of [{ env: { COSIGN_PASSWORD: PASSWORD } }, { input: PASSWORD }, { input: `${PASSWORD}\r\n` }]) {
      const ok = await cosignkit(['--engine', 'native', 'sign-blob', '--key', 'piped.key', 'data.txt'], {
        cwd: dir,
        ...how,
      });
      expect(ok.code, ok.stderr).toBe(0);
    }
    // Only ONE newline goes: a second one is part of the password.
    const twice = await cosignkit(['--engine', 'native', 'sign-blob', '--key', 'piped.key', 'data.txt'], {
      cwd: dir,
      input: `${PASSWORD}\n\n`,
    });
    expectFailure(twice, 1, 'PASSWORD_INCORRECT');
  });

  it('refuses a password piped on stdin that is larger than 64 KiB, without reading it all', async () => {
    const run = await cosignkit(['generate-key-pair', '--output-key-prefix', 'huge'], {
      cwd: dir,
      input: 'x'.repeat(1024 * 1024),
    });
    expectFailure(run, 1, 'USAGE');
    expect(existsSync(join(dir, 'huge.key'))).toBe(false);
  });
});

describe('key pairs and the key group', () => {
  it('generate-key-pair writes <prefix>.key (0600) and <prefix>.pub and refuses to overwrite', async () => {
    const run = await cosignkit(['generate-key-pair', '--output-key-prefix', 'gen'], {
      cwd: dir,
      env: { COSIGN_PASSWORD: PASSWORD },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('Private key written to gen.key');
    expect(statSync(join(dir, 'gen.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'gen.key'), 'utf8')).toContain('BEGIN ENCRYPTED SIGSTORE PRIVATE KEY');
    expect(readFileSync(join(dir, 'gen.pub'), 'utf8')).toContain('BEGIN PUBLIC KEY');
    const before = readFileSync(join(dir, 'gen.key'));
    const again = await cosignkit(['generate-key-pair', '--output-key-prefix', 'gen'], {
      cwd: dir,
      env: { COSIGN_PASSWORD: PASSWORD },
    });
    expectFailure(again, 1, 'KEY_EXISTS');
    expect(readFileSync(join(dir, 'gen.key'))).toEqual(before);
  });

  it('public-key prints the PEM, or writes it with --outfile', async () => {
    const env = { COSIGN_PASSWORD: PASSWORD };
    const printed = await cosignkit(['public-key', '--key', 'gen.key'], { cwd: dir, env });
    expect(printed.stdout).toBe(readFileSync(join(dir, 'gen.pub'), 'utf8'));
    const written = await cosignkit(['public-key', '--key', 'gen.key', '--outfile', 'out.pub'], { cwd: dir, env });
    expect(written.code, written.stderr).toBe(0);
    expect(readFileSync(join(dir, 'out.pub'), 'utf8')).toBe(printed.stdout);
  });

  it('public-key derives the key from the private key: `> gen.pub` and a swapped .pub do not change it', async () => {
    const env = { COSIGN_PASSWORD: PASSWORD };
    const expected = readFileSync(join(dir, 'gen.pub'), 'utf8');
    // What a shell does for `cosignkit public-key --key gen.key > gen.pub`: truncate first, then run.
    writeFileSync(join(dir, 'gen.pub'), '');
    const redirected = await cosignkit(['public-key', '--key', 'gen.key'], { cwd: dir, env });
    expect(redirected.code, redirected.stderr).toBe(0);
    expect(redirected.stdout).toBe(expected);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' });
    writeFileSync(join(dir, 'gen.pub'), other);
    const swapped = await cosignkit(['public-key', '--key', 'gen.key'], { cwd: dir, env });
    expect(swapped.stdout).toBe(expected);
    writeFileSync(join(dir, 'gen.pub'), expected);
  });

  it('key generate, key list, key set-default and key delete work on key files', async () => {
    const env = { COSIGN_PASSWORD: PASSWORD };
    const byKey = await cosignkit(['key', 'generate', '--key', 'keys/release.key'], { cwd: dir, env });
    expect(byKey.code, byKey.stderr).toBe(0);
    // The design's default is P-384 (seed 001); cosign's generate-key-pair keeps P-256.
    expect(byKey.stdout).toMatch(/^Generated keys\/release\.key\s+ecdsa-p384-sha384\s+[0-9a-f]{64}/);
    const p384 = await cosignkit(['key', 'generate', '--key', 'keys/p384.key', '--algorithm', 'ecdsa-p384-sha384'], {
      cwd: dir,
      env,
    });
    expect(p384.stdout).toMatch(/^Generated keys\/p384\.key\s+ecdsa-p384-sha384\s/);
    expectFailure(
      await cosignkit(['key', 'generate', '--key', 'keys/x.key', '--algorithm', 'rsa'], { cwd: dir, env }),
      1,
      'USAGE',
    );
    const byLabel = await cosignkit(
      ['--json', 'key', 'generate', '--backend', 'file', '--label', 'edkey', '--algorithm', 'ed25519'],
      { cwd: dir, env },
    );
    expect(byLabel.code, byLabel.stderr).toBe(0);
    expect(JSON.parse(byLabel.stdout)).toMatchObject({ algorithm: 'ed25519', backend: 'file' });
    expect(existsSync(join(dir, 'edkey.key'))).toBe(true);

    const list = await cosignkit(['--json', 'key', 'list'], { cwd: dir });
    expect(list.code, list.stderr).toBe(0);
    const ids = (JSON.parse(list.stdout) as { keys: { id: string }[] }).keys.map((k) => k.id);
    expect(ids).toEqual(expect.arrayContaining(['gen', 'edkey']));

    const setDefault = await cosignkit(['key', 'set-default', 'keys/release.key'], { cwd: dir });
    expect(setDefault.code, setDefault.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(dir, '.config', 'cosignkit', 'config.json'), 'utf8')) as {
      defaultKey: string;
    };
    expect(config.defaultKey).toBe(join(dir, 'keys', 'release.key'));
    expectFailure(
      await cosignkit(['key', 'set-default', 'pkcs11:token=a;object=b?pin-value=1234'], { cwd: dir }),
      1,
      'USAGE',
    );

    writeFileSync(join(dir, 'default.txt'), 'signed with the default key');
    const signed = await cosignkit(
      ['--engine', 'native', 'sign-blob', 'default.txt', '--output-signature', 'default.sig'],
      { cwd: dir, env },
    );
    expect(signed.code, signed.stderr).toBe(0);
    const verified = await cosignkit(
      ['verify-blob', '--key', 'keys/release.pub', '--signature', 'default.sig', 'default.txt'],
      { cwd: dir },
    );
    expect(verified.code, verified.stderr).toBe(0);

    const noTty = await cosignkit(['key', 'delete', '--key', 'edkey.key'], { cwd: dir });
    expectFailure(noTty, 1, 'USAGE');
    expect(noTty.stderr).toContain('--yes');
    expect(existsSync(join(dir, 'edkey.key'))).toBe(true);
    const deleted = await cosignkit(['key', 'delete', '--key', 'edkey.key', '--yes'], { cwd: dir });
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(listDir(dir).filter((n) => n.startsWith('edkey'))).toEqual([]);
  });

  it('key list skips a configured backend that is not installed, with a note', async () => {
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'cosignkit.config.json'),
      JSON.stringify({ backends: { vault: 'cosignkit-key-vault-not-installed' } }),
    );
    const run = await cosignkit(['--json', 'key', 'list'], { cwd: project });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^cosignkit: skipped backend vault: .+ \[BACKEND_NOT_INSTALLED\]$/m);
    expect(JSON.parse(run.stdout)).toMatchObject({ keys: [], skipped: [{ backend: 'vault' }] });
  });

  it('import-key-pair turns a PEM key into a cosign key pair', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'plain.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const run = await cosignkit(['import-key-pair', '--key', 'plain.pem', '--output-key-prefix', 'imported'], {
      cwd: dir,
      env: { COSIGN_PASSWORD: PASSWORD },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(statSync(join(dir, 'imported.key')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, 'imported.pub'))).toBe(true);
    expectFailure(await cosignkit(['import-key-pair', '--output-key-prefix', 'x'], { cwd: dir }), 1, 'USAGE');
  });
});
