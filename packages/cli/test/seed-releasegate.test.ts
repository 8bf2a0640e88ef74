import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosignkit, expectFailure, expectOk, PASSWORD, type Run, tempHome } from './helpers.js';

/**
 * Issue 18, seed 003 (ReleaseGate DSSE): raw-payload Ed25519 signatures only with --signature-over payload,
 * --require-repo/--require-commit, attest-blob --keyid/--subject-name/--canonical, root-signed key
 * manifests over a real loopback HTTP server, and attestation_id. The ReleaseGate envelopes are made here
 * as seed 003 describes its emitter: JCS statement, Ed25519 over the decoded payload bytes.
 */
const SHA = '0123456789abcdef0123456789abcdef01234567';
const REPO = 'acme/widget';
const HASH = createHash('sha256').update('the release decision').digest('hex');
let home: ReturnType<typeof tempHome>;
let dir: string;
let server: Server;
let base: string;
const run = (args: string[]): Promise<Run> => cosignkit(args, { cwd: dir, env: { COSIGN_PASSWORD: PASSWORD } });
const rg = generateKeyPairSync('ed25519');

/** An envelope as ReleaseGate emits it (ed25519 mode): the signature is over the payload, not the PAE. */
function releaseGateEnvelope(
  predicate: Record<string, unknown>,
  subjectName = `git+https://github.com/${REPO}@${SHA}`,
) {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: subjectName, digest: { sha256: HASH } }],
    predicateType: 'https://releasegate.dev/attestation/v1',
    predicate,
  };
  const payload = Buffer.from(canonicalize(statement)!, 'utf8');
  return {
    payloadType: 'application/vnd.in-toto+json',
    payload: payload.toString('base64'),
    signatures: [{ keyid: 'rg-2026', sig: sign(null, payload, rg.privateKey).toString('base64') }],
  };
}

const predicate = {
  decision: 'ALLOW',
  issued_at: new Date().toISOString(),
  subject: { repo: REPO, commit_sha: SHA },
  signature: { signed_payload_hash: `sha256:${HASH}` },
};

beforeAll(async () => {
  home = tempHome();
  dir = home.dir;
  writeFileSync(join(dir, 'rg.pub'), rg.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'rg.dsse.json'), JSON.stringify(releaseGateEnvelope(predicate)));
  writeFileSync(
    join(dir, 'contradicts.dsse.json'),
    JSON.stringify(releaseGateEnvelope({ ...predicate, subject: { repo: 'evil/fork', commit_sha: SHA } })),
  );
  const tampered = releaseGateEnvelope(predicate);
  tampered.payload = Buffer.from(Buffer.from(tampered.payload, 'base64').toString().replace('ALLOW', 'BLOCK')).toString(
    'base64',
  );
  writeFileSync(join(dir, 'tampered.dsse.json'), JSON.stringify(tampered));
  writeFileSync(join(dir, 'artifact.txt'), 'the release decision');
  writeFileSync(join(dir, 'predicate.json'), JSON.stringify(predicate));
  expectOk(await run(['generate-key-pair']));
  expectOk(await run(['generate-key-pair', '--output-key-prefix', 'other']));
  // A tiny static server over the temp dir: /signed/… has keys.json and keys.sig, /unsigned/… only keys.json.
  server = createServer((req, res) => {
    const files: Record<string, string> = {
      '/signed/keys.json': 'keys.json',
      '/signed/keys.sig': 'keys.sig',
      '/unsigned/keys.json': 'keys.json',
      '/tampered/keys.json': 'tampered-keys.json',
      '/tampered/keys.sig': 'keys.sig',
    };
    const name = files[req.url ?? ''];
    if (!name) return void res.writeHead(404).end();
    try {
      res.writeHead(200).end(readFileSync(join(dir, name)));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  home?.cleanup();
});

describe('verify-dsse --signature-over payload', () => {
  it('refuses a raw-payload signature by default and accepts it only when asked; reports attestation_id', async () => {
    const byDefault = await run(['verify-dsse', '--dsse', 'rg.dsse.json', '--key-file', 'rg.pub']);
    expect(byDefault.code).toBe(2);
    expect(byDefault.stdout).toContain('INVALID');
    const asked = expectOk(
      await run([
        '--json',
        'verify-dsse',
        '--dsse',
        'rg.dsse.json',
        '--key-file',
        'rg.pub',
        '--signature-over',
        'payload',
      ]),
    );
    const data = JSON.parse(asked.stdout);
    expect(data).toMatchObject({ verified: true, signatureOver: 'payload', attestation_id: HASH });
    expect(data.attestationIdSource).toBe('signed_payload_hash');
    expect(data.attestation_id).toMatch(/^[0-9a-f]{64}$/);
    const text = expectOk(
      await run(['verify-dsse', '--dsse', 'rg.dsse.json', '--key-file', 'rg.pub', '--signature-over', 'payload']),
    );
    expect(text.stdout).toContain(`attestation_id: ${HASH}`);
  });

  it('a tampered payload fails even with the flag; a bad flag value is a usage error', async () => {
    const tampered = await run([
      'verify-dsse',
      '--dsse',
      'tampered.dsse.json',
      '--key-file',
      'rg.pub',
      '--signature-over',
      'payload',
    ]);
    expect(tampered.code).toBe(2);
    expectFailure(
      await run(['verify-dsse', '--dsse', 'rg.dsse.json', '--key-file', 'rg.pub', '--signature-over', 'raw']),
      1,
      'USAGE',
    );
  });
});

describe('verify-dsse --require-repo / --require-commit', () => {
  const verify = (file: string, extra: string[]) =>
    run(['--json', 'verify-dsse', '--dsse', file, '--key-file', 'rg.pub', '--signature-over', 'payload', ...extra]);

  it('match the subject git+https://github.com/<repo>@<sha> and the predicate fields', async () => {
    expectOk(await verify('rg.dsse.json', ['--require-repo', REPO, '--require-commit', SHA]));
    expectOk(await verify('rg.dsse.json', ['--require-repo', 'ACME/Widget']));
    const otherRepo = await verify('rg.dsse.json', ['--require-repo', 'acme/other']);
    expect(otherRepo.code).toBe(2);
    expect(JSON.parse(otherRepo.stdout).unmet.map((u: { rule: string }) => u.rule)).toEqual(['require-repo']);
    const otherCommit = await verify('rg.dsse.json', ['--require-commit', 'f'.repeat(40)]);
    expect(otherCommit.code).toBe(2);
    expect(JSON.parse(otherCommit.stdout).unmet.map((u: { rule: string }) => u.rule)).toEqual(['require-commit']);
    // The subject says acme/widget, the predicate evil/fork: a contradiction fails.
    const contradicts = await verify('contradicts.dsse.json', ['--require-repo', REPO]);
    expect(contradicts.code).toBe(2);
    expect(JSON.parse(contradicts.stdout).unmet[0].message).toContain('evil/fork');
    expectFailure(
      await run(['verify-dsse', '--dsse', 'rg.dsse.json', '--key-file', 'rg.pub', '--require-repo', 'not a repo']),
      1,
      'USAGE',
    );
  });
});

describe('attest-blob --keyid --subject-name --canonical', () => {
  it('writes the keyid, the subject and a JCS payload that verify-dsse binds to repo, commit and keyid', async () => {
    const subject = `git+https://github.com/${REPO}@${SHA}`;
    const made = expectOk(
      await run([
        '--json',
        'attest-blob',
        '--engine',
        'native',
        '--key',
        'cosign.key',
        '--predicate',
        'predicate.json',
        '--type',
        'https://releasegate.dev/attestation/v1',
        '--statement-version',
        'v1',
        '--keyid',
        'ci-2026',
        '--subject-name',
        subject,
        '--canonical',
        '--output-file',
        'ours.dsse.json',
        'artifact.txt',
      ]),
    );
    const data = JSON.parse(made.stdout);
    expect(data.attestation_id).toBe(HASH);
    expect(made.stderr).toContain(`attestation_id: ${HASH}`);
    const envelope = JSON.parse(readFileSync(join(dir, 'ours.dsse.json'), 'utf8'));
    expect(envelope.signatures[0].keyid).toBe('ci-2026');
    const payload = Buffer.from(envelope.payload, 'base64').toString('utf8');
    expect(payload).toBe(canonicalize(JSON.parse(payload)));
    expect(JSON.parse(payload).subject[0].name).toBe(subject);
    writeFileSync(
      join(dir, 'ours-keys.json'),
      JSON.stringify({ 'ci-2026': readFileSync(join(dir, 'cosign.pub'), 'utf8') }),
    );
    const ok = ['verify-dsse', '--dsse', 'ours.dsse.json', '--keys', 'ours-keys.json'];
    expectOk(await run([...ok, '--require-keyid', 'ci-2026', '--require-repo', REPO, '--require-commit', SHA]));
    expect((await run([...ok, '--require-keyid', 'someone-else'])).code).toBe(2);
    expect((await run([...ok, '--require-commit', 'a'.repeat(40)])).code).toBe(2);
  });

  it('without --canonical the payload keeps cosign field order; the cosign engine refuses these flags', async () => {
    expectOk(
      await run([
        'attest-blob',
        '--engine',
        'native',
        '--key',
        'cosign.key',
        '--predicate',
        'predicate.json',
        '--type',
        'https://releasegate.dev/attestation/v1',
        '--output-file',
        'plain.dsse.json',
        'artifact.txt',
      ]),
    );
    const envelope = JSON.parse(readFileSync(join(dir, 'plain.dsse.json'), 'utf8'));
    const payload = Buffer.from(envelope.payload, 'base64').toString('utf8');
    expect(payload).not.toBe(canonicalize(JSON.parse(payload)));
    expect(envelope.signatures[0].keyid).toBe('');
    expectFailure(
      await run([
        'attest-blob',
        '--engine',
        'cosign',
        '--key',
        'cosign.key',
        '--predicate',
        'predicate.json',
        '--keyid',
        'x',
        'artifact.txt',
      ]),
      1,
      'NOT_SUPPORTED',
    );
  });
});

describe('root-signed key manifests', () => {
  beforeAll(async () => {
    expectOk(await run(['sign-key-manifest', '--key', 'cosign.key', '--add', 'rg-2026=rg.pub', 'keys.json']));
    writeFileSync(
      join(dir, 'tampered-keys.json'),
      JSON.stringify({ 'rg-2026': readFileSync(join(dir, 'other.pub'), 'utf8') }),
    );
  });
  const verify = (extra: string[]) =>
    run([
      'verify-dsse',
      '--dsse',
      'rg.dsse.json',
      '--signature-over',
      'payload',
      '--require-keyid',
      'rg-2026',
      ...extra,
    ]);

  it('sign-key-manifest writes keys.json and keys.sig; --keys-url with the pinned root trusts the keys', async () => {
    expect(JSON.parse(readFileSync(join(dir, 'keys.json'), 'utf8'))).toHaveProperty('rg-2026');
    expect(readFileSync(join(dir, 'keys.sig'), 'utf8')).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expectOk(await verify(['--keys-url', `${base}/signed/keys.json`, '--keys-root-key', 'cosign.pub']));
    expectOk(await verify(['--keys', 'keys.json', '--keys-root-key', 'cosign.pub']));
  });

  it('refuses an unsigned manifest, a wrong root and a manifest changed after signing', async () => {
    const unsigned = await verify(['--keys-url', `${base}/unsigned/keys.json`, '--keys-root-key', 'cosign.pub']);
    expectFailure(unsigned, 2, 'VERIFICATION_FAILED');
    expect(unsigned.stderr).toContain('unsigned');
    const wrongRoot = await verify(['--keys-url', `${base}/signed/keys.json`, '--keys-root-key', 'other.pub']);
    expectFailure(wrongRoot, 2, 'VERIFICATION_FAILED');
    expect(wrongRoot.stderr).toContain('pinned root key');
    expectFailure(
      await verify(['--keys-url', `${base}/tampered/keys.json`, '--keys-root-key', 'cosign.pub']),
      2,
      'VERIFICATION_FAILED',
    );
    // Without the root key the same unsigned map is the old convenience (ReleaseGate's --keys-url): trusted as is.
    expectOk(await verify(['--keys-url', `${base}/unsigned/keys.json`]));
  });
});

describe('attestation_id in the log', () => {
  it('log-dsse and verify-log report it', async () => {
    const logged = expectOk(await run(['--json', 'log-dsse', '--dsse', 'rg.dsse.json', '--log', 'att.log']));
    expect(JSON.parse(logged.stdout).attestation_id).toBe(HASH);
    const verified = expectOk(await run(['verify-log', '--dsse', 'rg.dsse.json', '--log', 'att.log']));
    expect(verified.stdout).toContain(`attestation_id ${HASH}`);
  });
});
