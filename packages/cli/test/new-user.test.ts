import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, PASSWORD, REPO_ROOT, cosignkit, expectFailure, requireCosign, tempHome, type Run } from './helpers.js';

// Issue 17, item by item, through the built CLI: what a new user trips over.
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = 'Zq-7351-pin'; // not hex: it must not turn up by chance in a digest
let home: ReturnType<typeof tempHome>;
let dir: string;
let cosignDir: string;
const withPassword = { COSIGN_PASSWORD: PASSWORD };

beforeAll(() => {
  cosignDir = dirname(requireCosign());
  home = tempHome();
  dir = home.dir;
  writeFileSync(join(dir, 'artifact.txt'), 'new user\n');
  writeFileSync(
    join(dir, 'predicate.json'),
    '{"builder":{"id":"https://example.com/b"},"buildType":"https://example.com/t"}\n',
  );
});
afterAll(() => home?.cleanup());

/** The CLI with the one user config of this file, wherever it runs. */
const run = (args: string[], env: Record<string, string | undefined> = {}, cwd = dir) =>
  cosignkit(args, { cwd, env: { HOME: dir, XDG_CONFIG_HOME: join(dir, '.config'), ...env } });

/** The CLI under a given umask (a shell sets it, then execs the CLI). */
function underUmask(umask: string, args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const full: NodeJS.ProcessEnv = { ...process.env, HOME: dir, XDG_CONFIG_HOME: join(dir, '.config'), ...env };
  delete full.COSIGNKIT_DEBUG;
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `umask ${umask}; exec "$0" "$@"`, CLI, ...args], {
      cwd: dir,
      env: full,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const modeOf = (name: string) => statSync(join(dir, name)).mode & 0o777;

describe('help', () => {
  it('cosignkit help [command] is the same as --help', async () => {
    expect((await run(['help'])).stdout).toBe((await run(['--help'])).stdout);
    const viaHelp = await run(['help', 'key', 'delete']);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe((await run(['key', 'delete', '--help'])).stdout);
    expect(viaHelp.stdout).toContain('-f, --force');
    expect((await run(['help', 'key'])).stdout).toContain('Sub-commands:');
  });
});

describe('one output contract', () => {
  it('--json errors: the JSON on stdout and the one line on stderr, for exit 1, 2 and 3', async () => {
    expect((await run(['generate-key-pair', '--output-key-prefix', 'contract'], withPassword)).code).toBe(0);
    writeFileSync(join(dir, 'garbage.key'), 'not a key\n');
    writeFileSync(join(dir, 'stranger.sig'), 'MEUCIQDx\n');
    const cases: [string[], number, string][] = [
      [['public-key', '--key', 'missing.key'], 1, 'KEY_NOT_FOUND'],
      [['key', 'delete'], 1, 'USAGE'],
      [['public-key', '--key', 'garbage.key'], 3, 'KEY_MALFORMED'],
    ];
    for (const [args, exitCode, code] of cases) {
      const failed = await run(['--json', ...args], withPassword);
      expectFailure(failed, exitCode, code);
      expect(JSON.parse(failed.stdout), args.join(' ')).toEqual({ error: { code, message: expect.any(String) } });
    }
    // Exit 2 (a signature that does not match): the result as JSON, and the line on stderr.
    const signed = await run(
      ['--engine', 'native', 'sign-blob', '--key', 'contract.key', 'artifact.txt'],
      withPassword,
    );
    writeFileSync(join(dir, 'contract.sig'), signed.stdout);
    writeFileSync(join(dir, 'other.txt'), 'something else\n');
    const mismatch = await run([
      '--json',
      'verify-blob',
      '--key',
      'contract.pub',
      '--signature',
      'contract.sig',
      'other.txt',
    ]);
    expectFailure(mismatch, 2, 'VERIFICATION_FAILED');
    expect(JSON.parse(mismatch.stdout)).toMatchObject({ verified: false });
  });

  it('one fingerprint form: the bare hex of --json, in text too', async () => {
    const made = await run(['--json', 'key', 'generate', '--key', 'fp.key'], withPassword);
    expect(made.code, made.stderr).toBe(0);
    const { fingerprint } = JSON.parse(made.stdout) as { fingerprint: string };
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const listed = await run(['key', 'list']);
    const line = listed.stdout.split('\n').find((l) => l.includes('fp.key'));
    expect(line).toContain(`  ${fingerprint}`);
    expect(listed.stdout).not.toContain('sha256:');
  });

  it('public outputs are 0644 less the umask and private keys 0600, from every command and both engines', async () => {
    const env = { ...withPassword, PATH: `${cosignDir}:${process.env.PATH}` };
    const steps: [string[], Record<string, number>][] = [
      [['generate-key-pair', '--output-key-prefix', 'm'], { 'm.key': 0o600, 'm.pub': 0o640 }],
      [['key', 'generate', '--key', 'mk.key'], { 'mk.key': 0o600, 'mk.pub': 0o640 }],
      [['public-key', '--key', 'm.key', '--outfile', 'm2.pub'], { 'm2.pub': 0o640 }],
    ];
    for (const engine of ['native', 'cosign']) {
      steps.push([
        ['--engine', engine, 'sign-blob', '--key', 'm.key', '--output-signature', `${engine}.sig`],
        { [`${engine}.sig`]: 0o640 },
      ]);
      steps.push([
        ['--engine', engine, 'sign-blob', '--key', 'm.key', '--bundle', `${engine}.sigstore.json`],
        { [`${engine}.sigstore.json`]: 0o640 },
      ]);
      steps.push([
        [
          '--engine',
          engine,
          'attest-blob',
          '--key',
          'm.key',
          '--predicate',
          'predicate.json',
          '--type',
          'slsaprovenance',
          '--output-file',
          `${engine}.att.json`,
          '--bundle',
          `${engine}.att.sigstore.json`,
        ],
        { [`${engine}.att.json`]: 0o640, [`${engine}.att.sigstore.json`]: 0o640 },
      ]);
    }
    for (const [args, modes] of steps) {
      const withFile = args[0] === '--engine' ? [...args, 'artifact.txt'] : args;
      const done = await underUmask('027', withFile, env);
      expect(done.code, `${withFile.join(' ')}: ${done.stderr}`).toBe(0);
      for (const [name, mode] of Object.entries(modes)) expect(modeOf(name).toString(8), name).toBe(mode.toString(8));
    }
    // The default umask gives the plain 0644.
    expect((await underUmask('022', ['public-key', '--key', 'm.key', '--outfile', 'm3.pub'], env)).code).toBe(0);
    expect(modeOf('m3.pub')).toBe(0o644);
  });
});

describe('keys', () => {
  it('key list never needs a secret: the .pub gives the fingerprint, a key without one is named on stderr', async () => {
    const list = join(dir, 'list');
    mkdirSync(list);
    expect((await run(['generate-key-pair', '--output-key-prefix', 'a'], withPassword, list)).code).toBe(0);
    expect((await run(['generate-key-pair', '--output-key-prefix', 'b'], withPassword, list)).code).toBe(0);
    renameSync(join(list, 'b.pub'), join(list, 'b.pub.away'));
    // No COSIGN_PASSWORD, no terminal, stdin /dev/null: a password request would fail with PASSWORD_REQUIRED.
    const listed = await run(['--json', 'key', 'list'], {}, list);
    expect(listed.code, listed.stderr).toBe(0);
    const { keys, skipped } = JSON.parse(listed.stdout) as { keys: { id: string }[]; skipped: unknown[] };
    expect(keys.map((k) => k.id)).toEqual(['a']);
    expect(skipped).toEqual([]);
    expect(listed.stderr).toContain('not listing');
    expect(listed.stderr).toContain('b.key');
    expect(listed.stderr).not.toContain('PASSWORD_REQUIRED');
  });

  it('key set-default says where it wrote, --project writes the project file; key list marks the default', async () => {
    const project = join(dir, 'project');
    mkdirSync(project);
    expect((await run(['generate-key-pair', '--output-key-prefix', 'd1'], withPassword, project)).code).toBe(0);
    expect((await run(['generate-key-pair', '--output-key-prefix', 'd2'], withPassword, project)).code).toBe(0);
    const user = await run(['key', 'set-default', 'd1.key'], {}, project);
    const userConfig = join(dir, '.config', 'cosignkit', 'config.json');
    expect(user.stdout.trim()).toBe(`Default key set to ${join(project, 'd1.key')} in ${userConfig}`);
    const marked = (await run(['key', 'list'], {}, project)).stdout;
    expect(marked).toMatch(/d1\.key .*\(default\)$/m);
    expect(marked).not.toMatch(/d2\.key .*\(default\)/);

    const proj = await run(['--json', 'key', 'set-default', '--project', 'd2.key'], {}, project);
    expect(JSON.parse(proj.stdout)).toMatchObject({
      configPath: join(project, 'cosignkit.config.json'),
      scope: 'project',
    });
    expect(statSync(join(project, 'cosignkit.config.json')).mode & 0o777).toBe(0o644);
    // The project's file wins: d2 is the default now.
    const listed = JSON.parse((await run(['--json', 'key', 'list'], {}, project)).stdout) as {
      keys: { id: string; default: boolean }[];
    };
    expect(listed.keys.map((k) => [k.id, k.default])).toEqual([
      ['d1', false],
      ['d2', true],
    ]);
  });

  it('key delete of the default key removes "defaultKey" from the file that named it', async () => {
    const project = join(dir, 'project');
    const deleted = await run(['key', 'delete', '--key', './d2.key', '-f'], {}, project);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stderr).toContain(`removed "defaultKey" from ${join(project, 'cosignkit.config.json')}`);
    expect(JSON.parse(readFileSync(join(project, 'cosignkit.config.json'), 'utf8'))).not.toHaveProperty('defaultKey');
    // The user's default (d1) is untouched, and is the default again.
    expect((await run(['key', 'list'], {}, project)).stdout).toMatch(/d1\.key .*\(default\)$/m);
    const userDelete = await run(['key', 'delete', '--key', 'd1.key', '--yes'], {}, project);
    expect(userDelete.code).toBe(0);
    const userConfig = JSON.parse(readFileSync(join(dir, '.config', 'cosignkit', 'config.json'), 'utf8'));
    expect(userConfig).not.toHaveProperty('defaultKey');
    // Without a terminal, neither --yes nor -f: refused, nothing deleted.
    expect((await run(['generate-key-pair', '--output-key-prefix', 'kept'], withPassword, project)).code).toBe(0);
    expectFailure(await run(['key', 'delete', '--key', 'kept.key'], {}, project), 1, 'USAGE');
    expect(existsSync(join(project, 'kept.key'))).toBe(true);
  });

  it('key list --backend keyring lists keys in every service cosignkit created keys in', () => {
    const wrapper = join(REPO_ROOT, 'packages', 'key-keyring', 'scripts', 'with-secret-service.sh');
    const script = '"$0" key generate --key keyring:barsvc/k1 >/dev/null && "$0" --json key list --backend keyring';
    const result = spawnSync('bash', [wrapper, 'sh', '-c', script, CLI], {
      cwd: dir,
      env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: join(dir, '.config') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(0);
    const { keys } = JSON.parse(result.stdout) as { keys: { ref: string }[] };
    expect(keys.map((k) => k.ref)).toEqual(['keyring:barsvc/k1']);
    expect(result.stderr).not.toContain('fd limit');
  });
});

describe('PKCS#11 (SoftHSM2)', () => {
  let env: Record<string, string>;
  beforeAll(() => {
    const hsm = join(dir, 'hsm');
    mkdirSync(join(hsm, 'tokens'), { recursive: true });
    writeFileSync(join(hsm, 'softhsm2.conf'), `directories.tokendir = ${hsm}/tokens\nobjectstore.backend = file\n`);
    env = { SOFTHSM2_CONF: join(hsm, 'softhsm2.conf') };
    const init = spawnSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', 'newuser', '--so-pin', '12345678', '--pin', PIN],
      { env: { ...process.env, ...env }, encoding: 'utf8' },
    );
    if (init.status !== 0) throw new Error(`softhsm2-util failed: ${init.stderr}`);
  });

  it('names the backend, not "pkcs11::", when no module is configured', async () => {
    const listed = await run(['key', 'list', '--backend', 'pkcs11'], { COSIGN_PKCS11_MODULE_PATH: undefined });
    expectFailure(listed, 1, 'USAGE');
    expect(listed.stderr).not.toContain('pkcs11::');
    expect(listed.stderr).toContain('no PKCS#11 module for the pkcs11 backend');
  });

  it('a generated key can sign (private half) and verify (public half), nothing else', async () => {
    const ref = `pkcs11:token=newuser;object=usage?module-path=${MODULE}`;
    const made = await run(['key', 'generate', '--key', ref], { ...env, COSIGN_PKCS11_PIN: PIN });
    expect(made.code, made.stderr).toBe(0);
    const objects = spawnSync(
      'pkcs11-tool',
      ['--module', MODULE, '--token-label', 'newuser', '--login', '--pin', PIN, '--list-objects'],
      { env: { ...process.env, ...env }, encoding: 'utf8' },
    );
    expect(objects.status, `pkcs11-tool (apt-get install opensc): ${objects.stderr}`).toBe(0);
    const usages = [...objects.stdout.matchAll(/^(Private|Public) Key Object[\s\S]*?Usage:\s*([^\n]*)/gm)].map((m) => [
      m[1],
      m[2]!.trim(),
    ]);
    expect(usages).toEqual(
      expect.arrayContaining([
        ['Private', 'sign'],
        ['Public', 'verify'],
      ]),
    );
    expect(usages).toHaveLength(2);
  });

  it('engine auto never sends a PKCS#11 key through cosign, even with cosign and the plugin on PATH', async () => {
    const ref = `pkcs11:token=newuser;object=usage?module-path=${MODULE}`;
    const signed = await run(['sign-blob', '--key', ref, 'artifact.txt'], {
      ...env,
      COSIGN_PKCS11_PIN: PIN,
      PATH: `${join(REPO_ROOT, 'bin')}:${cosignDir}:${process.env.PATH}`,
    });
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stderr).toContain('engine: native');
  });
});

describe('engines', () => {
  it("--engine cosign finds the checkout's own cosign with no cosign on PATH; auto then picks it for a key file", async () => {
    const bare = { ...withPassword, PATH: '/usr/bin:/bin', COSIGN_PATH: undefined };
    expect(spawnSync('sh', ['-c', 'command -v cosign'], { env: { PATH: bare.PATH } }).status).not.toBe(0);
    expect((await run(['generate-key-pair', '--output-key-prefix', 'eng'], withPassword)).code).toBe(0);
    const forced = await run(['--engine', 'cosign', 'sign-blob', '--key', 'eng.key', 'artifact.txt'], bare);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toContain('engine: cosign');
    const auto = await run(['sign-blob', '--key', 'eng.key', 'artifact.txt'], bare);
    expect(auto.stderr).toContain('engine: cosign');
    const native = await run(['--engine', 'native', 'sign-blob', '--key', 'eng.key', 'artifact.txt'], bare);
    expect(native.stderr).toContain('engine: native');
  });
});
