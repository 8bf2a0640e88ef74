import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, tempHome } from './helpers.js';
import { errorOf, request, runPlugin, signArgs } from './plugin-harness.js';

// The plugin run exactly as cosign runs it: argv `v1 <json>`, the message on stdin, the answer on stdout.
let home: ReturnType<typeof tempHome>;
let dir: string;
const KEY = 'keys/release.key';
const MESSAGE = 'a message to sign\n';
let env: Record<string, string>;

beforeAll(async () => {
  home = tempHome();
  dir = home.dir;
  // No agent: a socket path where none listens.
  env = { COSIGN_PASSWORD: PASSWORD, COSIGNKIT_AGENT_SOCKET: join(dir, 'no-agent', 'agent.sock') };
  const created = await runPlugin(request(KEY, 'createKey', { algorithm: 'ecdsa-sha2-256-nistp256' }), {
    cwd: dir,
    env,
  });
  expect(created.json, created.stdout + created.stderr).toHaveProperty('createKey.publicKeyPEM');
});
afterAll(() => home?.cleanup());

function publicKey() {
  return createPublicKey(readFileSync(join(dir, 'keys', 'release.pub')));
}

function expectNoSecret(...runs: { stdout: string; stderr: string }[]): void {
  for (const run of runs) expect(run.stdout + run.stderr).not.toContain(PASSWORD);
}

describe('sigstore-kms-cosignkit, protocol v1 (file key)', () => {
  it('defaultAlgorithm: P-256, or P-384 when the reference asks', async () => {
    const plain = await runPlugin(request(KEY, 'defaultAlgorithm'), { cwd: dir, env });
    expect(plain.json).toEqual({ defaultAlgorithm: { defaultAlgorithm: 'ecdsa-sha2-256-nistp256' } });
    const p384 = await runPlugin(request('tpm:release?curve=p384', 'defaultAlgorithm'), { cwd: dir, env });
    expect(p384.json).toEqual({ defaultAlgorithm: { defaultAlgorithm: 'ecdsa-sha2-384-nistp384' } });
  });

  it("supportedAlgorithms: the backend's, in sigstore's names", async () => {
    const run = await runPlugin(request(KEY, 'supportedAlgorithms'), { cwd: dir, env });
    expect(run.json).toEqual({
      supportedAlgorithms: { supportedAlgorithms: ['ecdsa-sha2-256-nistp256', 'ecdsa-sha2-384-nistp384', 'ed25519'] },
    });
  });

  it('createKey wrote a cosign key pair (key 0600) and refuses to overwrite it', async () => {
    expect(statSync(join(dir, 'keys', 'release.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'keys', 'release.key'), 'utf8')).toContain('ENCRYPTED SIGSTORE PRIVATE KEY');
    const again = await runPlugin(request(KEY, 'createKey', { algorithm: 'ecdsa-sha2-256-nistp256' }), {
      cwd: dir,
      env,
    });
    expect(errorOf(again)).toMatch(/\[KEY_EXISTS\]$/);
    const badAlgorithm = await runPlugin(
      request('keys/other.key', 'createKey', { algorithm: 'rsa-sign-pkcs1-2048-sha256' }),
      { cwd: dir, env },
    );
    expect(errorOf(badAlgorithm)).toMatch(/\[ALGORITHM_UNSUPPORTED\]$/);
  });

  it('publicKey: base64 of the PEM, the same as the .pub file', async () => {
    const run = await runPlugin(request(KEY, 'publicKey', { publicKeyOptions: {} }), { cwd: dir, env });
    const pem = Buffer.from(
      (run.json as { publicKey: { publicKeyPEM: string } }).publicKey.publicKeyPEM,
      'base64',
    ).toString();
    expect(pem).toBe(readFileSync(join(dir, 'keys', 'release.pub'), 'utf8'));
  });

  it('signMessage with the message on stdin (digest null); a hash the key cannot take is refused', async () => {
    const run = await runPlugin(request(KEY, 'signMessage', signArgs(null)), { cwd: dir, env, input: MESSAGE });
    expect(run.json, run.stdout + run.stderr).toHaveProperty('signMessage.signature');
    const signature = Buffer.from((run.json as { signMessage: { signature: string } }).signMessage.signature, 'base64');
    expect(verify('sha256', Buffer.from(MESSAGE), publicKey(), signature)).toBe(true);
    // hashFunc 6 (SHA-384) for a P-256 key: hashed as asked, then refused by the key's digest-length check.
    const sha384 = await runPlugin(request(KEY, 'signMessage', signArgs(null, 6), 6), {
      cwd: dir,
      env,
      input: MESSAGE,
    });
    expect(errorOf(sha384)).toMatch(/48 bytes \[DIGEST_LENGTH\]$/);
    const unknownHash = await runPlugin(request(KEY, 'signMessage', signArgs(null, 3), 3), {
      cwd: dir,
      env,
      input: MESSAGE,
    });
    expect(errorOf(unknownHash)).toMatch(/hash function 3.*\[NOT_SUPPORTED\]$/);
    expectNoSecret(run, sha384);
  });

  it('signMessage with a digest: signed as given; a digest of the wrong length is refused', async () => {
    const digest = createHash('sha256').update(MESSAGE).digest('base64');
    const run = await runPlugin(request(KEY, 'signMessage', signArgs(digest)), { cwd: dir, env });
    const signature = Buffer.from((run.json as { signMessage: { signature: string } }).signMessage.signature, 'base64');
    expect(verify('sha256', Buffer.from(MESSAGE), publicKey(), signature)).toBe(true);
    const short = await runPlugin(request(KEY, 'signMessage', signArgs(Buffer.alloc(20).toString('base64'))), {
      cwd: dir,
      env,
    });
    expect(errorOf(short)).toMatch(/\[DIGEST_LENGTH\]$/);
  });

  it('verifySignature: {} for a good signature, an error for a wrong message', async () => {
    const signed = await runPlugin(request(KEY, 'signMessage', signArgs(null)), { cwd: dir, env, input: MESSAGE });
    const signature = (signed.json as { signMessage: { signature: string } }).signMessage.signature;
    const args = { signature, verifyOptions: { messageOptions: { digest: null } } };
    const good = await runPlugin(request(KEY, 'verifySignature', args), { cwd: dir, env, input: MESSAGE });
    expect(good.json).toEqual({ verifySignature: {} });
    const bad = await runPlugin(request(KEY, 'verifySignature', args), { cwd: dir, env, input: `${MESSAGE}tampered` });
    expect(errorOf(bad)).toMatch(/\[VERIFICATION_FAILED\]$/);
  });

  it('malformed JSON, an unknown method, a wrong protocol version, no request: one errorMessage each', async () => {
    const malformed = await runPlugin(['v1', '{"initOptions": {'], { cwd: dir, env });
    expect(errorOf(malformed)).toMatch(/not valid JSON/);
    const unknown = await runPlugin(request(KEY, 'deleteEverything'), { cwd: dir, env });
    expect(errorOf(unknown)).toMatch(/unknown method "deleteEverything"/);
    const version = await runPlugin(['v2', JSON.stringify(request(KEY, 'publicKey'))], { cwd: dir, env });
    expect(errorOf(version)).toMatch(/protocol version "v2"/);
    const none = await runPlugin(['v1'], { cwd: dir, env });
    expect(errorOf(none)).toMatch(/no request/);
    const noKey = await runPlugin(['v1', JSON.stringify({ methodName: 'publicKey', publicKey: {} })], {
      cwd: dir,
      env,
    });
    expect(errorOf(noKey)).toMatch(/keyResourceID/);
    for (const run of [malformed, unknown, version, none, noKey]) expect(run.stderr).toBe('');
  });

  it('an unknown key, a key scheme without a backend, a store reference: errors, not crashes', async () => {
    const missing = await runPlugin(request('keys/none.key', 'publicKey'), { cwd: dir, env });
    expect(errorOf(missing)).toMatch(/\[(KEY_NOT_FOUND|FILE_NOT_FOUND)\]$/);
    const scheme = await runPlugin(request('nosuchscheme:key', 'publicKey'), { cwd: dir, env });
    expect(errorOf(scheme)).toMatch(/\[BACKEND_NOT_INSTALLED\]$/);
    const store = await runPlugin(request('keys/', 'signMessage', signArgs(null)), { cwd: dir, env, input: MESSAGE });
    expect(errorOf(store)).toMatch(/\[USAGE\]$/);
  });

  it('no password and a wrong password: errors that never show it', async () => {
    const none = await runPlugin(request(KEY, 'signMessage', signArgs(null)), {
      cwd: dir,
      env: { ...env, COSIGN_PASSWORD: undefined },
      input: MESSAGE,
    });
    expect(errorOf(none)).toMatch(/COSIGN_PASSWORD.*\[PASSWORD_REQUIRED\]$/);
    const wrong = await runPlugin(request(KEY, 'signMessage', signArgs(null)), {
      cwd: dir,
      env: { ...env, COSIGN_PASSWORD: `${PASSWORD}-not` },
      input: MESSAGE,
    });
    expect(errorOf(wrong)).toMatch(/\[PASSWORD_INCORRECT\]$/);
    expectNoSecret(none, wrong);
  });

  it('a plain defaultAlgorithm loads neither core nor any backend (lean start-up)', async () => {
    // A resolve hook lists every module the plugin imports.
    const hook = `data:text/javascript,${encodeURIComponent(
      "import { registerHooks } from 'node:module'; registerHooks({ resolve(s, c, n) { process.stderr.write('RESOLVE ' + s + '\\n'); return n(s, c); } });",
    )}`;
    const light = await runPlugin(request('pkcs11:token=ci;object=release', 'defaultAlgorithm'), {
      cwd: dir,
      env,
      node: ['--import', hook],
    });
    expect(light.json).toEqual({ defaultAlgorithm: { defaultAlgorithm: 'ecdsa-sha2-256-nistp256' } });
    expect(light.stderr).toContain('RESOLVE ');
    expect(light.stderr).not.toMatch(/@cosignkit\/|graphene|@sigstore/);
    // The same hook sees core and the backend when the plugin does the work itself: the check can fail.
    const heavy = await runPlugin(request(KEY, 'publicKey'), { cwd: dir, env, node: ['--import', hook] });
    expect(heavy.stderr).toMatch(/@cosignkit\/core/);
  });
});

describe('an Ed25519 file key through the plugin', () => {
  it('createKey, signMessage (pure, message on stdin) and verifySignature', async () => {
    const created = await runPlugin(request('keys/ed.key', 'createKey', { algorithm: 'ed25519' }), { cwd: dir, env });
    expect(created.json).toHaveProperty('createKey.publicKeyPEM');
    const signed = await runPlugin(request('keys/ed.key', 'signMessage', signArgs(null)), {
      cwd: dir,
      env,
      input: MESSAGE,
    });
    const signature = (signed.json as { signMessage: { signature: string } }).signMessage.signature;
    const pub = createPublicKey(readFileSync(join(dir, 'keys', 'ed.pub')));
    expect(verify(null, Buffer.from(MESSAGE), pub, Buffer.from(signature, 'base64'))).toBe(true);
    const checked = await runPlugin(request('keys/ed.key', 'verifySignature', { signature, verifyOptions: {} }), {
      cwd: dir,
      env,
      input: MESSAGE,
    });
    expect(checked.json).toEqual({ verifySignature: {} });
    writeFileSync(join(dir, 'unused'), '');
  });
});
