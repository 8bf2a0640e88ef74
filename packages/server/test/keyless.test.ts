import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DevStack, STACK_FILES, type StackInfo } from '@cosignkit/dev-stack';
import { KeylessStatementSigner, parseServerConfig, SIGN_ROUTE } from '../src/index.js';
import { signBody, startServer, type Running } from './harness.js';

// Keyless signing against @cosignkit/dev-stack: @sigstore/mock's Fulcio, Rekor and TSA plus an OIDC issuer,
// served over real HTTP on loopback (a mock CA: nothing it signs is trusted outside the test). The bundles the
// service returns are verified by the real cosign against the stack's trusted root.
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const COSIGN = join(REPO, '.tools/cosign/usr/bin/cosign');
const CLI = join(REPO, 'bin/cosignkit');
const IDENTITY = 'release-signer@example.com';

let stack: DevStack;
let info: StackInfo;
let dir: string;
let stackDir: string;
let s: Running;
const servers: Running[] = [];

function cosign(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(COSIGN, args, {
      cwd,
      env: { ...process.env, HOME: cwd, TUF_ROOT: join(cwd, 'tuf'), SIGSTORE_ID_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

const keyless = (tokenFile: string) => (c: Record<string, any>) => {
  c.signing.keyless = {
    signingConfig: join(stackDir, STACK_FILES.signingConfig),
    identityToken: { file: tokenFile },
  };
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cosignkit-server-keyless-'));
  stackDir = join(dir, 'stack');
  stack = await DevStack.start({ identity: IDENTITY });
  info = await stack.writeFiles(stackDir);
  await writeFile(join(dir, 'id-token'), info.token, { mode: 0o600 });
  s = await startServer(keyless(join(dir, 'id-token')), { dir });
  servers.push(s);
}, 60_000);
afterAll(async () => {
  for (const server of servers) await server.close();
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('keyless signing mode (Fulcio certificate for the signer identity, Rekor entry)', () => {
  it('answers with the envelope, a bundle with a log entry and the certificate chain; the real cosign verifies it', async () => {
    const artifact = Buffer.from('keyless release artifact\n');
    await writeFile(join(dir, 'artifact.txt'), artifact);
    await writeFile(join(dir, 'other.txt'), 'not the artifact\n');
    const sha256 = createHash('sha256').update(artifact).digest('hex');
    const client = await s.client();
    const body = signBody(s.env, {
      subject: [{ name: 'artifact.txt', digest: { sha256 } }],
      options: { signingMode: 'keyless' },
    });
    const first = await client.request('POST', SIGN_ROUTE, body);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const answer = first.body as any;
    expect(answer.identity.mode).toBe('keyless');
    expect(answer.identity.issuer).toBe(info.issuerUrl);
    expect(answer.identity.subject).toContain(IDENTITY);
    const chain = (answer.identity.certificateChain as string[]).map((pem) => new X509Certificate(pem));
    expect(chain.length).toBeGreaterThanOrEqual(2);
    // The chain links up: leaf issued by the next, the last is the stack's CA root.
    for (let i = 0; i + 1 < chain.length; i++) expect(chain[i]!.verify(chain[i + 1]!.publicKey)).toBe(true);
    expect(chain.at(-1)!.raw.equals(Buffer.from(stack.fulcio.ca.rootCertificate.buffer))).toBe(true);
    expect(answer.identity.keyId).toBe(createHash('sha256').update(chain[0]!.raw).digest('hex'));
    // The signing config names a log: the bundle carries its entry; the certificate is the chain's leaf.
    expect(answer.bundle.verificationMaterial.tlogEntries).toHaveLength(1);
    expect(Buffer.from(answer.bundle.verificationMaterial.certificate.rawBytes, 'base64').equals(chain[0]!.raw)).toBe(
      true,
    );
    expect(answer.envelope.payload).toBe(answer.bundle.dsseEnvelope.payload);
    expect(answer.envelope.signatures[0].sig).toBe(answer.bundle.dsseEnvelope.signatures[0].sig);

    // One certificate serves every request while it is valid.
    const second = await client.request('POST', SIGN_ROUTE, body);
    expect(second.status).toBe(200);
    expect((second.body as any).identity.keyId).toBe(answer.identity.keyId);
    expect((second.body as any).bundle.verificationMaterial.tlogEntries[0].logIndex).not.toBe(
      answer.bundle.verificationMaterial.tlogEntries[0].logIndex,
    );

    await writeFile(join(dir, 'keyless.bundle.json'), JSON.stringify(answer.bundle));
    const verify = (identity: string, file: string) =>
      cosign(
        [
          'verify-blob-attestation',
          '--new-bundle-format',
          '--trusted-root',
          join(stackDir, STACK_FILES.trustedRoot),
          '--type',
          'https://slsa.dev/provenance/v1',
          '--certificate-identity',
          identity,
          '--certificate-oidc-issuer',
          info.issuerUrl,
          '--bundle',
          'keyless.bundle.json',
          file,
        ],
        dir,
      );
    const ok = await verify(IDENTITY, 'artifact.txt');
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toContain('Verified OK');
    const wrongIdentity = await verify('someone-else@example.com', 'artifact.txt');
    expect(wrongIdentity.code, wrongIdentity.out).not.toBe(0);
    const wrongFile = await verify(IDENTITY, 'other.txt');
    expect(wrongFile.code, wrongFile.out).not.toBe(0);

    // The audit log records the certificate fingerprint as the key id, and finds the envelope.
    await writeFile(join(dir, 'keyless.env.json'), JSON.stringify(answer.envelope));
    const log = await promisify(execFile)(
      CLI,
      ['verify-log', '--log', s.env.files.auditLog, '--dsse', 'keyless.env.json'],
      {
        cwd: dir,
      },
    );
    expect(log.stdout + log.stderr).toMatch(/Log intact/);
  }, 120_000);

  it('kms stays the default mode when a key is configured too; the key and the certificate do not mix', async () => {
    const client = await s.client();
    const res = await client.request('POST', SIGN_ROUTE, signBody(s.env, { options: {} }));
    expect(res.status).toBe(200);
    expect((res.body as any).identity.mode).toBe('kms');
    expect((res.body as any).bundle.verificationMaterial.publicKey).toBeDefined();
  });

  it('re-reads the token file: an expired token gives 503 (no token in the answer or the log), a fresh one signs', async () => {
    // Laid out as a Kubernetes projected token: the configured path is a symbolic link into a data dir.
    const tokenFile = join(dir, 'rotating-token');
    const expired = await stack.issueToken({ ttlSeconds: -120 });
    await writeFile(join(dir, 'rotating-token.data'), expired, { mode: 0o600 });
    await symlink(join(dir, 'rotating-token.data'), tokenFile);
    const other = await startServer(
      (c) => {
        keyless(tokenFile)(c);
        c.audit.log = join(dir, 'rotating.audit.log');
      },
      { env: s.env },
    );
    servers.push(other);
    const client = await other.client();
    const body = signBody(other.env, { options: { signingMode: 'keyless' } });
    const refused = await client.request('POST', SIGN_ROUTE, body);
    expect(refused.status).toBe(503);
    expect((refused.body as any).type).toMatch(/unavailable$/);
    expect(refused.headers['retry-after']).toBeDefined();
    const seen = JSON.stringify(refused.body) + other.logLines.join('\n');
    expect(seen).not.toContain(expired);
    expect(seen).toContain('IDENTITY_TOKEN');
    // The operator (or a sidecar) rotates the file; the next request asks Fulcio again with it.
    await writeFile(join(dir, 'rotating-token.data'), await stack.issueToken(), { mode: 0o600 });
    const ok = await client.request('POST', SIGN_ROUTE, body);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((ok.body as any).identity.mode).toBe('keyless');
  }, 60_000);

  it('a keyless-only signer defaults to keyless and refuses kms with 400 signing-mode-unavailable', async () => {
    const only = await startServer(
      (c) => {
        keyless(join(dir, 'id-token'))(c);
        delete c.signing.key;
        c.audit.log = join(dir, 'only.audit.log');
      },
      { env: s.env },
    );
    servers.push(only);
    const client = await only.client();
    // Cold start under concurrency: the requests share one Fulcio request, hence one certificate.
    const burst = await Promise.all(
      Array.from({ length: 8 }, () => client.request('POST', SIGN_ROUTE, signBody(only.env, { options: {} }))),
    );
    for (const res of burst) {
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect((res.body as any).identity.mode).toBe('keyless');
    }
    expect(new Set(burst.map((r) => (r.body as any).identity.keyId)).size).toBe(1);
    const kms = await client.request('POST', SIGN_ROUTE, signBody(only.env, { options: { signingMode: 'kms' } }));
    expect(kms.status).toBe(400);
    expect((kms.body as any).type).toMatch(/signing-mode-unavailable$/);
  }, 60_000);

  it('config errors are one USAGE line naming the field', async () => {
    const base = structuredClone(s.env.config) as Record<string, any>;
    const parse = (patch: (c: Record<string, any>) => void) => {
      const c = structuredClone(base);
      patch(c);
      return () => parseServerConfig(c, dir);
    };
    expect(parse((c) => (c.signing = {}))).toThrow(/^signing: give a key, keyless settings, or both$/);
    expect(parse((c) => (c.signing.keyless = { identityToken: { file: 'x' } }))).toThrow(
      /signing\.keyless: give a signingConfig file or a fulcioUrl/,
    );
    expect(
      parse((c) => (c.signing.keyless = { fulcioUrl: 'http://x', identityToken: { file: 'x', env: 'Y' } })),
    ).toThrow(/identityToken: give exactly one of file and env/);
    const open = (k: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => {
      const c = structuredClone(base);
      c.signing.keyless = k;
      return KeylessStatementSigner.open(parseServerConfig(c, dir).signing.keyless!, env);
    };
    const config = join(stackDir, STACK_FILES.signingConfig);
    const expectLine = async (p: Promise<unknown>, pattern: RegExp) => {
      const error = (await p.then(
        () => undefined,
        (e: unknown) => e,
      )) as { code?: string; message?: string };
      expect(error?.code).toBe('USAGE');
      expect(error?.message).toMatch(pattern);
      expect(error?.message).not.toContain('\n');
    };
    await expectLine(
      open({ signingConfig: config, identityToken: { file: 'missing-token' } }),
      /identityToken\.file: .*missing-token/,
    );
    await expectLine(
      open({ signingConfig: config, identityToken: { env: 'NO_SUCH_TOKEN' } }),
      /\$NO_SUCH_TOKEN is not set/,
    );
    await expectLine(
      open({ signingConfig: join(dir, 'nope.json'), identityToken: { env: 'T' } }, { T: 'x' }),
      /^signing\.keyless: .*nope\.json/,
    );
    await expectLine(
      open({ signingConfig: config, tlogUpload: false, identityToken: { env: 'T' } }, { T: 'x' }).then(async () => {
        // The stack's config names a TSA too, so no log is allowed; without either it is refused.
        await open({ fulcioUrl: info.fulcioUrl, tlogUpload: false, identityToken: { env: 'T' } }, { T: 'x' });
      }),
      /transparency log or a timestamp authority/,
    );
  });
});
