import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, cosignkit, expectFailure, requireCosign, tempHome } from './helpers.js';

// Issue 11 through the real CLI: input errors with fields of the wrong type are exit 3 with a stable code
// on both engines (auto hands key verification to the real cosign), a key pair is both-or-neither when one
// name exists, and success output escapes control characters from file names.
let home: ReturnType<typeof tempHome>;
let dir: string;
const env = { COSIGN_PASSWORD: PASSWORD, COSIGNKIT_NO_AGENT: '1' };
const ck = (args: string[]) => cosignkit(args, { cwd: dir, env });

beforeAll(async () => {
  requireCosign();
  home = tempHome();
  dir = home.dir;
  writeFileSync(join(dir, 'artifact.txt'), 'the artifact\n');
  expect((await ck(['generate-key-pair'])).code).toBe(0);
  expect((await ck(['sign-blob', '--key', 'cosign.key', '--bundle', 'good.bundle', 'artifact.txt'])).code).toBe(0);
});
afterAll(() => home.cleanup());

describe('fields of the wrong type are malformed input (exit 3), not INTERNAL', () => {
  const bundle = () => JSON.parse(readFileSync(join(dir, 'good.bundle'), 'utf8')) as Record<string, any>;

  for (const engine of ['native', 'cosign', 'auto']) {
    it(`"signature": 123 in a bundle (--engine ${engine})`, async () => {
      const b = bundle();
      if (b.messageSignature) b.messageSignature.signature = 123;
      else b.base64Signature = 123;
      writeFileSync(join(dir, `sig-123-${engine}.json`), JSON.stringify(b));
      const run = await ck([
        '--engine',
        engine,
        'verify-blob',
        '--key',
        'cosign.pub',
        '--bundle',
        `sig-123-${engine}.json`,
        'artifact.txt',
      ]);
      expectFailure(run, 3, 'BUNDLE_MALFORMED');
      expect(run.stderr).not.toMatch(/must be of type|Received type/);
    });

    it(`an unknown field in a Sigstore bundle (--engine ${engine}): cosign's protobuf error is BUNDLE_MALFORMED`, async () => {
      const b = bundle();
      b.base64Signature = 'x';
      writeFileSync(join(dir, `unknown-${engine}.json`), JSON.stringify(b));
      const run = await ck([
        '--engine',
        engine,
        'verify-blob',
        '--key',
        'cosign.pub',
        '--bundle',
        `unknown-${engine}.json`,
        'artifact.txt',
      ]);
      // The native reader ignores unknown fields (protobuf JSON); cosign refuses them: either way not exit 1.
      expect([0, 3]).toContain(run.code);
    });
  }

  it('"sig": 123 in an envelope and in a bundle\'s dsseEnvelope', async () => {
    writeFileSync(
      join(dir, 'env-123.json'),
      JSON.stringify({ payloadType: 'x', payload: 'eA==', signatures: [{ sig: 123 }] }),
    );
    expectFailure(
      await ck(['verify-dsse', '--dsse', 'env-123.json', '--key-file', 'cosign.pub']),
      3,
      'ENVELOPE_MALFORMED',
    );
    writeFileSync(
      join(dir, 'bundle-123.json'),
      JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        verificationMaterial: { publicKey: { hint: 'eA==' } },
        dsseEnvelope: { payloadType: 'x', payload: 'eA==', signatures: [{ sig: 123 }] },
      }),
    );
    expectFailure(
      await ck(['verify-dsse', '--dsse', 'bundle-123.json', '--key-file', 'cosign.pub']),
      3,
      'BUNDLE_MALFORMED',
    );
  });
});

describe('generate-key-pair: both files or neither', () => {
  it('an existing .pub: KEY_EXISTS, no .key written, the .pub untouched', async () => {
    writeFileSync(join(dir, 'half.pub'), 'mine');
    expectFailure(await ck(['generate-key-pair', '--output-key-prefix', 'half']), 1, 'KEY_EXISTS');
    expect(existsSync(join(dir, 'half.key'))).toBe(false);
    expect(readFileSync(join(dir, 'half.pub'), 'utf8')).toBe('mine');
  });

  it('an existing .key: KEY_EXISTS, no .pub written, no temp left', async () => {
    writeFileSync(join(dir, 'other.key'), 'mine');
    expectFailure(await ck(['generate-key-pair', '--output-key-prefix', 'other']), 1, 'KEY_EXISTS');
    expect(existsSync(join(dir, 'other.pub'))).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});

describe('success output escapes control characters', () => {
  const hostile = 'b\u001b[2J\nVerified OK\u009b.bundle';

  it('"Wrote bundle to <name>" with ESC and a newline in the name: one escaped line', async () => {
    const run = await ck(['sign-blob', '--key', 'cosign.key', '--bundle', hostile, 'artifact.txt']);
    expect(run.code).toBe(0);
    expect(existsSync(join(dir, hostile))).toBe(true);
    expect(run.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(run.stderr).toContain('Wrote bundle to b\\x1b[2J\\nVerified OK\\x9b.bundle');
    expect(run.stderr.split('\n').filter((l) => l.startsWith('Verified OK'))).toEqual([]);
  });

  it('generate-key-pair and --json: the names escaped on stderr, JSON-escaped in the result', async () => {
    const prefix = 'k\u001b]0;pwned\u0007\u2028x';
    const run = await ck(['generate-key-pair', '--output-key-prefix', prefix]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('Private key written to k\\x1b]0;pwned\\x07\\u2028x.key');
    expect(run.stderr).not.toMatch(/[\u001b\u0007\u2028]/);
    const json = await ck([
      '--json',
      'sign-blob',
      '--key',
      `${prefix}.key`,
      '--bundle',
      'c\u2028\u001b.bundle',
      'artifact.txt',
    ]);
    expect(json.code).toBe(0);
    expect(json.stdout).not.toMatch(/[\u001b\u2028]/);
    // Escaped on the wire, the same value for a JSON reader.
    expect(JSON.parse(json.stdout).bundlePath).toBe('c\u2028\u001b.bundle');
  });
});

describe('the agent and a wrong COSIGN_PASSWORD (documented in SECURITY.md)', () => {
  it('while the agent holds the key a wrong password still signs; --no-agent checks it', async () => {
    const agentEnv = { ...env, COSIGNKIT_NO_AGENT: undefined, COSIGNKIT_AGENT_DIR: join(dir, 'agent') };
    const run = (args: string[], extra: Record<string, string | undefined> = {}) =>
      cosignkit(args, { cwd: dir, env: { ...agentEnv, ...extra } });
    expect((await run(['agent', 'start'])).code).toBe(0);
    try {
      const sign = ['--engine', 'native', 'sign-blob', '--key', 'cosign.key', 'artifact.txt'];
      expect((await run(sign)).code).toBe(0); // the first use unlocks the key in the agent
      expect((await run(sign, { COSIGN_PASSWORD: 'wrong' })).code).toBe(0);
      expectFailure(await run(['--no-agent', ...sign], { COSIGN_PASSWORD: 'wrong' }), 1, 'PASSWORD_INCORRECT');
    } finally {
      await run(['agent', 'stop']);
    }
  });
});

describe('batch output escapes hostile file names', () => {
  it('a failing file named with ESC and a newline: its stderr line and its --json line are escaped', async () => {
    const sub = join(dir, 'batch');
    mkdirSync(sub);
    const name = 'x\u001b[2J\nVerified OK\u2028.bin';
    writeFileSync(join(sub, name), 'data');
    writeFileSync(join(sub, `${name}.sig`), 'MEUCIQ==');
    const run = await ck(['--json', 'verify-blob', '--key', 'cosign.pub', '-r', 'batch']);
    expect(run.code).not.toBe(0);
    expect(run.stderr + run.stdout).not.toMatch(/[\u001b\u2028]/);
    expect(run.stderr).toContain('batch/x\\x1b[2J\\nVerified OK\\u2028.bin');
    const line = JSON.parse(run.stdout.trim().split('\n')[0]!) as { file: string };
    expect(line.file).toBe(`batch/${name}`);
  });
});
