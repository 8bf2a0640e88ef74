import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DevStack, STACK_FILES, type StackInfo } from '@cosignkit/dev-stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosign, cosignkit, expectFailure, expectOk, requireCosign, tempHome, type Run } from './helpers.js';

// cosign's pre-bundle keyless blob form: `sign-blob --output-certificate --output-signature --bundle` (the
// legacy bundle, whose rekorBundle is the log entry) made by the REAL cosign 2.5 against @cosignkit/dev-stack
// (@sigstore/mock's Fulcio and Rekor over real HTTP on loopback), verified by cosignkit with
// `verify-blob --certificate --signature` offline (and with the entry looked up in the stack's Rekor, as
// cosign does online), and by cosign itself for agreement.
let stack: DevStack;
let info: StackInfo;
const home = tempHome();
const cwd = home.dir;
const trust = (name: keyof typeof STACK_FILES) => join(cwd, 'stack', STACK_FILES[name]);
const cosignEnv = () => ({
  TUF_ROOT: join(cwd, 'tuf'),
  SIGSTORE_ROOT_FILE: trust('fulcioRoot'),
  SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: trust('ctLogKey'),
  SIGSTORE_REKOR_PUBLIC_KEY: trust('rekorKey'),
});

async function cosignSignBlob(prefix: string, file: string): Promise<void> {
  const r = await cosign(
    [
      'sign-blob',
      '--fulcio-url',
      info.fulcioUrl,
      '--rekor-url',
      info.rekorUrl,
      '--identity-token',
      info.token,
      '--output-certificate',
      `${prefix}.pem`,
      '--output-signature',
      `${prefix}.sig`,
      '--bundle',
      `${prefix}.bundle.json`,
      '--yes',
      file,
    ],
    { cwd, env: cosignEnv() },
  );
  expect(r.code, r.stderr).toBe(0);
}

const ours = (prefix: string, extra: string[] = [], identity = info.identity, file = 'blob.txt'): Promise<Run> =>
  cosignkit(
    [
      'verify-blob',
      '--certificate',
      `${prefix}.pem`,
      '--signature',
      `${prefix}.sig`,
      '--certificate-identity',
      identity,
      '--certificate-oidc-issuer',
      info.issuerUrl,
      '--trusted-root',
      trust('trustedRoot'),
      ...extra,
      file,
    ],
    { cwd },
  );

beforeAll(async () => {
  requireCosign();
  stack = await DevStack.start();
  info = await stack.writeFiles(join(cwd, 'stack'));
  writeFileSync(join(cwd, 'blob.txt'), 'signed the old way\n');
  writeFileSync(join(cwd, 'other.txt'), 'something else\n');
  await cosignSignBlob('a', 'blob.txt');
  await cosignSignBlob('b', 'other.txt');
}, 60_000);

afterAll(async () => {
  await stack?.close();
  home.cleanup();
});

describe('verify-blob --certificate --signature (cosign legacy keyless)', () => {
  it('verifies with the legacy bundle as the log entry, as cosign does', async () => {
    const legacy = JSON.parse(readFileSync(join(cwd, 'a.bundle.json'), 'utf8'));
    expect(legacy.rekorBundle.SignedEntryTimestamp).toBeTypeOf('string');
    // cosign agrees first.
    const theirs = await cosign(
      [
        'verify-blob',
        '--certificate',
        'a.pem',
        '--signature',
        'a.sig',
        '--bundle',
        'a.bundle.json',
        '--certificate-identity',
        info.identity,
        '--certificate-oidc-issuer',
        info.issuerUrl,
        'blob.txt',
      ],
      { cwd, env: cosignEnv() },
    );
    expect(theirs.code, theirs.stderr).toBe(0);
    const run = expectOk(await ours('a', ['--bundle', 'a.bundle.json']));
    expect(run.stdout).toContain('Verified OK');
    const json = JSON.parse(expectOk(await ours('a', ['--json', '--bundle', 'a.bundle.json'])).stdout);
    expect(json.signatures[0].certificate.identity).toBe(info.identity);
    expect(json.signatures[0].tlogEntries[0]).toEqual(
      expect.objectContaining({ kind: 'hashedrekord', logIndex: legacy.rekorBundle.Payload.logIndex }),
    );
    // The sha256:<hex> artifact form too.
    const digest = (await import('node:crypto')).createHash('sha256').update(readFileSync(join(cwd, 'blob.txt')));
    expectOk(await ours('a', ['--bundle', 'a.bundle.json'], info.identity, `sha256:${digest.digest('hex')}`));
  });

  it('--insecure-ignore-tlog without a bundle: the certificate is checked now; --offline with neither: USAGE', async () => {
    const ignored = JSON.parse(expectOk(await ours('a', ['--json', '--insecure-ignore-tlog'])).stdout);
    expect(ignored.signatures[0].tlogEntries).toEqual([]);
    const offline = await ours('a', ['--offline']);
    expectFailure(offline, 1, 'USAGE');
    expect(offline.stderr).toMatch(/--bundle|--insecure-ignore-tlog/);
  });

  it('with neither, the entry is looked up in Rekor online, as cosign does (both agree on the stack)', async () => {
    const legacy = JSON.parse(readFileSync(join(cwd, 'a.bundle.json'), 'utf8'));
    // The trusted root's log is the stack's Rekor: no --rekor-url needed.
    const found = JSON.parse(expectOk(await ours('a', ['--json'])).stdout);
    expect(found.signatures[0].tlogEntries[0]).toEqual(
      expect.objectContaining({ kind: 'hashedrekord', logIndex: legacy.rekorBundle.Payload.logIndex }),
    );
    expectOk(await ours('b', ['--rekor-url', info.rekorUrl], info.identity, 'other.txt'));
    const theirs = await cosign(
      [
        'verify-blob',
        '--certificate',
        'a.pem',
        '--signature',
        'a.sig',
        '--rekor-url',
        info.rekorUrl,
        '--certificate-identity',
        info.identity,
        '--certificate-oidc-issuer',
        info.issuerUrl,
        'blob.txt',
      ],
      { cwd, env: cosignEnv() },
    );
    expect(theirs.code, theirs.stderr).toBe(0);
    // b's certificate with a's signature: the log has an entry for the file, but not by that certificate.
    writeFileSync(join(cwd, 'unlogged.pem'), readFileSync(join(cwd, 'b.pem')));
    writeFileSync(join(cwd, 'unlogged.sig'), readFileSync(join(cwd, 'a.sig')));
    const unlogged = await ours('unlogged');
    expectFailure(unlogged, 2, 'VERIFICATION_FAILED');
    expect(unlogged.stderr).toContain('no entry in the transparency log');
    // Rekor down: one line, exit 1.
    expectFailure(await ours('a', ['--rekor-url', 'http://127.0.0.1:9']), 1, 'BACKEND_UNAVAILABLE');
  });

  it('fails (exit 2) for another file, a wrong identity, another signing’s certificate or log entry', async () => {
    expectFailure(await ours('a', ['--bundle', 'a.bundle.json'], info.identity, 'other.txt'), 2, 'VERIFICATION_FAILED');
    expectFailure(await ours('a', ['--bundle', 'a.bundle.json'], 'mallory@example.com'), 2, 'VERIFICATION_FAILED');
    // b's certificate (same CA and identity, another ephemeral key) with a's signature.
    writeFileSync(join(cwd, 'mixed.pem'), readFileSync(join(cwd, 'b.pem')));
    writeFileSync(join(cwd, 'mixed.sig'), readFileSync(join(cwd, 'a.sig')));
    expectFailure(await ours('mixed', ['--insecure-ignore-tlog']), 2, 'VERIFICATION_FAILED');
    // a's pieces with b's log entry: the SET binds another body.
    expectFailure(await ours('a', ['--bundle', 'b.bundle.json']), 2, 'VERIFICATION_FAILED');
  });

  it('--certificate with --key, or without --signature: USAGE; a garbage certificate: exit 3', async () => {
    expectFailure(
      await cosignkit(['verify-blob', '--key', 'x.pub', '--certificate', 'a.pem', '--signature', 'a.sig', 'blob.txt'], {
        cwd,
      }),
      1,
      'USAGE',
    );
    writeFileSync(join(cwd, 'junk.pem'), 'not a certificate');
    writeFileSync(join(cwd, 'junk.sig'), readFileSync(join(cwd, 'a.sig')));
    expectFailure(await ours('junk', ['--insecure-ignore-tlog']), 3, 'BUNDLE_MALFORMED');
  });
});
