import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, cosign, cosignkit, expectFailure, listDir, requireCosign, tempHome } from './helpers.js';

// Bad input, one case at a time, through both engines: one clear stderr line, the documented exit code
// (1 error, 2 verification failed, 3 malformed input), no stack, no secret, and no output file left behind.
let home: ReturnType<typeof tempHome>;
let dir: string;
const env = { COSIGN_PASSWORD: PASSWORD };

/** Re-encodes a cosign key file's JSON envelope after `change`. */
function rewriteKey(source: string, target: string, change: (envelope: Record<string, any>) => void): void {
  const pem = readFileSync(join(dir, source), 'utf8');
  const [, label, body] = /-----BEGIN ([A-Z ]+)-----\n([\s\S]+?)\n-----END/.exec(pem)!;
  const envelope = JSON.parse(Buffer.from(body!.replace(/\s/g, ''), 'base64').toString('utf8')) as Record<string, any>;
  change(envelope);
  const encoded = Buffer.from(JSON.stringify(envelope)).toString('base64').replace(/.{64}/g, '$&\n');
  writeFileSync(join(dir, target), `-----BEGIN ${label}-----\n${encoded}\n-----END ${label}-----\n`, { mode: 0o600 });
}

beforeAll(async () => {
  requireCosign();
  home = tempHome();
  dir = home.dir;
  writeFileSync(join(dir, 'artifact.txt'), 'the artifact\n');
  writeFileSync(join(dir, 'other.txt'), 'another file\n');
  mkdirSync(join(dir, 'a-directory'));
  expect((await cosign(['generate-key-pair', '--output-key-prefix', 'good'], { cwd: dir, env })).code).toBe(0);
  expect((await cosign(['generate-key-pair', '--output-key-prefix', 'stranger'], { cwd: dir, env })).code).toBe(0);
  expect(
    (
      await cosign(
        [
          'sign-blob',
          '--key',
          'good.key',
          '--tlog-upload=false',
          '--yes',
          '--output-signature',
          'good.sig',
          'artifact.txt',
        ],
        { cwd: dir, env },
      )
    ).code,
  ).toBe(0);
  expect(
    (
      await cosign(
        [
          'sign-blob',
          '--key',
          'good.key',
          '--tlog-upload=false',
          '--yes',
          '--output-signature',
          'other.sig',
          'other.txt',
        ],
        { cwd: dir, env },
      )
    ).code,
  ).toBe(0);
  expect(
    (
      await cosign(
        [
          'sign-blob',
          '--key',
          'good.key',
          '--tlog-upload=false',
          '--yes',
          '--new-bundle-format',
          '--bundle',
          'good.sigstore.json',
          'artifact.txt',
        ],
        { cwd: dir, env },
      )
    ).code,
  ).toBe(0);

  const key = readFileSync(join(dir, 'good.key'), 'utf8');
  writeFileSync(join(dir, 'truncated.key'), key.slice(0, Math.floor(key.length / 2)), { mode: 0o600 });
  // A PEM block whose body is not the JSON envelope: a corrupt key.
  const garbage = Buffer.from('{"kdf": not json at all').toString('base64');
  writeFileSync(
    join(dir, 'corrupt.key'),
    `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${garbage}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`,
    { mode: 0o600 },
  );
  rewriteKey('good.key', 'scrypt.key', (envelope) => {
    envelope.kdf.params.N = 1024;
  });
  writeFileSync(
    join(dir, 'garbled.sigstore.json'),
    readFileSync(join(dir, 'good.sigstore.json'), 'utf8').slice(0, 120),
  );
  writeFileSync(join(dir, 'garbled.sig'), '%%% not base64 %%%');
});
afterAll(() => home?.cleanup());

const OUTPUTS = ['--output-signature', 'out.sig', '--bundle', 'out.sigstore.json'];

for (const engine of ['native', 'cosign']) {
  describe(`sign-blob with bad input (--engine ${engine})`, () => {
    const cases: [string, string[], Record<string, string>, number, string | RegExp][] = [
      [
        'a wrong password',
        ['--key', 'good.key', 'artifact.txt'],
        { COSIGN_PASSWORD: 'wrong-password' },
        1,
        'PASSWORD_INCORRECT',
      ],
      ['a corrupt key', ['--key', 'corrupt.key', 'artifact.txt'], env, 3, 'KEY_MALFORMED'],
      ['a truncated key', ['--key', 'truncated.key', 'artifact.txt'], env, 3, 'KEY_MALFORMED'],
      [
        'unsupported scrypt parameters',
        ['--key', 'scrypt.key', 'artifact.txt'],
        env,
        1,
        /\[(KEY_UNSUPPORTED|PASSWORD_INCORRECT)\]/,
      ],
      ['a missing key', ['--key', 'absent.key', 'artifact.txt'], env, 1, /\[(KEY_NOT_FOUND|FILE_NOT_FOUND)\]/],
      ['a missing file', ['--key', 'good.key', 'absent.txt'], env, 1, 'FILE_NOT_FOUND'],
      ['a directory', ['--key', 'good.key', 'a-directory'], env, 1, 'NOT_A_FILE'],
    ];
    for (const [name, args, environment, exitCode, code] of cases) {
      it(`${name}: exit ${exitCode}, one line, no output left behind`, async () => {
        const before = listDir(dir);
        const run = await cosignkit(['--engine', engine, 'sign-blob', ...OUTPUTS, ...args], {
          cwd: dir,
          env: environment,
        });
        expectFailure(run, exitCode, code);
        expect(run.stdout).toBe('');
        expect(listDir(dir)).toEqual(before);
      });
    }

    it('never shows the password, even with COSIGNKIT_DEBUG=1', async () => {
      const run = await cosignkit(['--engine', engine, 'sign-blob', '--key', 'good.key', 'artifact.txt'], {
        cwd: dir,
        env: { COSIGN_PASSWORD: `${PASSWORD}-wrong`, COSIGNKIT_DEBUG: '1' },
      });
      expect(run.code).toBe(1);
      expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    });
  });

  describe(`verify-blob with bad input (--engine ${engine})`, () => {
    const cases: [string, string[], number, string | RegExp][] = [
      [
        "another file's signature",
        ['--key', 'good.pub', '--signature', 'other.sig', 'artifact.txt'],
        2,
        'VERIFICATION_FAILED',
      ],
      [
        'the wrong public key',
        ['--key', 'stranger.pub', '--signature', 'good.sig', 'artifact.txt'],
        2,
        'VERIFICATION_FAILED',
      ],
      [
        'the wrong public key for a bundle',
        ['--key', 'stranger.pub', '--bundle', 'good.sigstore.json', 'artifact.txt'],
        2,
        'VERIFICATION_FAILED',
      ],
      [
        'a bundle for another file',
        ['--key', 'good.pub', '--bundle', 'good.sigstore.json', 'other.txt'],
        2,
        'VERIFICATION_FAILED',
      ],
      [
        'a garbled bundle',
        ['--key', 'good.pub', '--bundle', 'garbled.sigstore.json', 'artifact.txt'],
        3,
        'BUNDLE_MALFORMED',
      ],
      [
        'a garbled signature',
        ['--key', 'good.pub', '--signature', 'garbled.sig', 'artifact.txt'],
        3,
        'SIGNATURE_MALFORMED',
      ],
      ['a missing file', ['--key', 'good.pub', '--signature', 'good.sig', 'absent.txt'], 1, 'FILE_NOT_FOUND'],
      ['a missing signature', ['--key', 'good.pub', '--signature', 'absent.sig', 'artifact.txt'], 1, 'FILE_NOT_FOUND'],
      ['a directory', ['--key', 'good.pub', '--signature', 'good.sig', 'a-directory'], 1, 'NOT_A_FILE'],
      ['a corrupt public key', ['--key', 'corrupt.key', '--signature', 'good.sig', 'artifact.txt'], 3, 'KEY_MALFORMED'],
      ['no signature or bundle', ['--key', 'good.pub', 'artifact.txt'], 1, 'USAGE'],
    ];
    for (const [name, args, exitCode, code] of cases) {
      it(`${name}: exit ${exitCode}, one line`, async () => {
        const run = await cosignkit(['--engine', engine, 'verify-blob', ...args], { cwd: dir, env });
        expectFailure(run, exitCode, code);
        expect(run.stdout).not.toContain('Verified OK');
      });
    }

    it('reports a failed verification as JSON with --json, exit 2', async () => {
      const run = await cosignkit(
        [
          '--engine',
          engine,
          '--json',
          'verify-blob',
          '--key',
          'stranger.pub',
          '--signature',
          'good.sig',
          'artifact.txt',
        ],
        { cwd: dir },
      );
      expect(run.code).toBe(2);
      expect(JSON.parse(run.stdout)).toMatchObject({ verified: false, engine });
    });
  });
}

describe('public-key and key generate with bad input', () => {
  it('public-key of a corrupt key: exit 3', async () => {
    expectFailure(await cosignkit(['public-key', '--key', 'corrupt.key'], { cwd: dir, env }), 3, 'KEY_MALFORMED');
  });

  it('public-key --outfile with a wrong password leaves no file', async () => {
    const run = await cosignkit(['public-key', '--key', 'truncated.key', '--outfile', 'never.pub'], { cwd: dir, env });
    expectFailure(run, 3, 'KEY_MALFORMED');
    expect(listDir(dir)).not.toContain('never.pub');
  });

  it('a backend that is not installed or configured: one line', async () => {
    expectFailure(await cosignkit(['key', 'list', '--backend', 'vault'], { cwd: dir }), 1, 'BACKEND_NOT_INSTALLED');
  });
});
