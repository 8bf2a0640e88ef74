import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, cosignkit, expectFailure, tempHome } from './helpers.js';

// One reader of public keys for every command that takes one: the same file gets the same answer from
// verify-blob --key, verify-dsse --key-file and a key map, and no public-key input ever asks for a password.
let home: ReturnType<typeof tempHome>;
let dir: string;
const env = { COSIGN_PASSWORD: PASSWORD };

beforeAll(async () => {
  home = tempHome();
  dir = home.dir;
  writeFileSync(join(dir, 'artifact.txt'), 'the artifact\n');
  writeFileSync(join(dir, 'predicate.json'), '{"ok":true}');
  expect((await cosignkit(['generate-key-pair', '--output-key-prefix', 'k'], { cwd: dir, env })).code).toBe(0);
  const signed = await cosignkit(['--engine', 'native', 'sign-blob', '--key', 'k.key', '--output-signature', 'a.sig', 'artifact.txt'], { cwd: dir, env });
  expect(signed.code, signed.stderr).toBe(0);
  const attested = await cosignkit(
    ['attest-blob', '--key', 'k.key', '--predicate', 'predicate.json', '--type', 'custom', '--output-file', 'env.json', 'artifact.txt'],
    { cwd: dir, env },
  );
  expect(attested.code, attested.stderr).toBe(0);
  const pem = readFileSync(join(dir, 'k.pub'), 'utf8');
  writeFileSync(join(dir, 'commented.pub'), `This is the release key.\n${pem}`);
  writeFileSync(join(dir, 'empty.pub'), '');
  writeFileSync(join(dir, 'garbage.pub'), 'not a key at all\n');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  writeFileSync(join(dir, 'rsa-pkcs1.pub'), rsa.export({ type: 'pkcs1', format: 'pem' }));
  writeFileSync(join(dir, 'rsa-pkix.pub'), rsa.export({ type: 'spki', format: 'pem' }));
  execFileSync('mkfifo', [join(dir, 'fifo.pub')]);
  // A sparse 100 MB file: refused from its size, before a byte is read.
  const fd = openSync(join(dir, 'huge.pub'), 'w');
  writeFileSync(fd, pem);
  closeSync(fd);
  execFileSync('truncate', ['-s', '100M', join(dir, 'huge.pub')]);
});
afterAll(() => home?.cleanup());

const verifyBlob = (key: string) => cosignkit(['--engine', 'native', 'verify-blob', '--key', key, '--signature', 'a.sig', 'artifact.txt'], { cwd: dir });
const verifyDsse = (key: string) => cosignkit(['verify-dsse', '--dsse', 'env.json', '--key-file', key], { cwd: dir });
const keyMap = (name: string, pemFile: string) => {
  writeFileSync(join(dir, name), JSON.stringify({ release: readFileSync(join(dir, pemFile), 'utf8') }));
  return cosignkit(['verify-dsse', '--dsse', 'env.json', '--keys', name], { cwd: dir });
};

describe('one public-key reader', () => {
  it('accepts a PEM with text before it everywhere, as cosign (pem.Decode) does', async () => {
    expect((await verifyBlob('commented.pub')).code).toBe(0);
    expect((await verifyDsse('commented.pub')).code).toBe(0);
    expect((await keyMap('commented.json', 'commented.pub')).code).toBe(0);
  });

  it.each([
    ['an empty file', 'empty.pub', 3, 'KEY_MALFORMED'],
    ['garbage', 'garbage.pub', 3, 'KEY_MALFORMED'],
    ['an "RSA PUBLIC KEY" (PKCS#1) file', 'rsa-pkcs1.pub', 3, 'KEY_MALFORMED'],
    ['an RSA PKIX key', 'rsa-pkix.pub', 1, 'ALGORITHM_UNSUPPORTED'],
    ['a 100 MB file', 'huge.pub', 3, 'KEY_MALFORMED'],
  ] as const)('refuses %s with the same code from every command, never asking for a password', async (_, file, exit, code) => {
    expectFailure(await verifyBlob(file), exit, code);
    expectFailure(await verifyDsse(file), exit, code);
    if (file !== 'huge.pub') expectFailure(await keyMap(`${file}.json`, file), exit, code);
  });

  it('refuses a FIFO at once instead of blocking on it', async () => {
    const started = Date.now();
    expectFailure(await verifyBlob('fifo.pub'), 1, 'NOT_A_FILE');
    expectFailure(await verifyDsse('fifo.pub'), 1, 'NOT_A_FILE');
    expectFailure(await cosignkit(['verify-dsse', '--dsse', 'env.json', '--keys', 'fifo.pub'], { cwd: dir }), 1, 'NOT_A_FILE');
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
