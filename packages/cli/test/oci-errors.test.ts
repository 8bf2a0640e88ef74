import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Digest } from '@cosignkit/oci';
import {
  htpasswdAuth,
  startTokenServer,
  writeDockerConfig,
  writeHtpasswd,
  type TokenServer,
} from '../../oci/test/harness/registry-auth.js';
import {
  cosign,
  cosignkit,
  expectFailure,
  expectNoStackNoSecret,
  PASSWORD,
  requireCosign,
  type Run,
} from './helpers.js';
import { ociWorkspace, RegistryClient, seed, startRegistry, type RunningRegistry } from './oci-setup.js';

const USER = 'ci-bot';
const REGISTRY_PASSWORD = 'registry-pw-7f3a';
let ws: { dir: string; cleanup: () => void };
let authDir: string;
let open: RunningRegistry;
let basic: RunningRegistry;
let token: RunningRegistry;
let tokenServer: TokenServer;

beforeAll(async () => {
  requireCosign();
  ws = await ociWorkspace();
  authDir = mkdtempSync(join(tmpdir(), 'cosignkit-oci-auth-'));
  tokenServer = await startTokenServer(authDir, USER, REGISTRY_PASSWORD);
  [open, basic, token] = await Promise.all([
    startRegistry(),
    startRegistry({ auth: htpasswdAuth(writeHtpasswd(authDir, USER, REGISTRY_PASSWORD)) }),
    startRegistry({ auth: tokenServer.auth }),
  ]);
});
afterAll(async () => {
  await Promise.all([open?.stop(), basic?.stop(), token?.stop(), tokenServer?.stop()]);
  ws?.cleanup();
  if (authDir) rmSync(authDir, { recursive: true, force: true });
});

const run = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
  cosignkit(args, { cwd: ws.dir, env: { COSIGN_PASSWORD: PASSWORD, ...env } });

function ok(r: Run): Run {
  expect(r.code, `exit code; stderr: ${r.stderr}`).toBe(0);
  expectNoStackNoSecret(r);
  expect(r.stderr + r.stdout).not.toContain(REGISTRY_PASSWORD);
  return r;
}

const clientWith = (user: string, password: string): RegistryClient =>
  new RegistryClient({ credentials: async () => ({ username: user, password }) });

describe.each([
  ['htpasswd (Basic)', () => basic],
  ['token (Bearer, ES256 JWT with x5c)', () => token],
])('registry auth: %s', (_name, registry) => {
  it('signs and verifies with credentials from DOCKER_CONFIG; cosign reads the same config', async () => {
    const host = registry().host;
    const digest = await seed(host, 'private/app', 'v1', clientWith(USER, REGISTRY_PASSWORD));
    const dockerConfig = writeDockerConfig(join(authDir, host.replace(':', '_')), host, USER, REGISTRY_PASSWORD);
    const env = { DOCKER_CONFIG: dockerConfig };
    const image = `${host}/private/app:v1`;
    ok(await run(['sign', '--engine', 'native', '--key', 'cosign.key', '--format', 'legacy', image], env));
    ok(
      await run(
        [
          'attest',
          '--engine',
          'native',
          '--key',
          'cosign.key',
          '--format',
          'bundle',
          '--predicate',
          'predicate.json',
          image,
        ],
        env,
      ),
    );
    ok(await run(['verify', '--engine', 'native', '--key', 'cosign.pub', image], env));
    ok(await run(['verify-attestation', '--engine', 'native', '--key', 'cosign.pub', image], env));
    const byCosign = await cosign(
      ['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', `${host}/private/app@${digest}`],
      { cwd: ws.dir, env },
    );
    expect(byCosign.code, byCosign.stderr).toBe(0);
    // The token flow really ran (the registry accepts nothing else).
    if (registry() === token) expect(tokenServer.issued()).toBeGreaterThan(0);
  });

  it('fails with REGISTRY_AUTH without credentials and with wrong ones', async () => {
    const host = registry().host;
    await seed(host, 'private/denied', 'v1', clientWith(USER, REGISTRY_PASSWORD));
    const image = `${host}/private/denied:v1`;
    const none = writeDockerConfig(join(authDir, 'none'), 'elsewhere.example', USER, REGISTRY_PASSWORD);
    expectFailure(
      await run(['verify', '--engine', 'native', '--key', 'cosign.pub', image], { DOCKER_CONFIG: none }),
      1,
      'REGISTRY_AUTH',
    );
    const wrong = writeDockerConfig(join(authDir, 'wrong'), host, USER, 'not-the-password');
    expectFailure(
      await run(['sign', '--engine', 'native', '--key', 'cosign.key', image], { DOCKER_CONFIG: wrong }),
      1,
      'REGISTRY_AUTH',
    );
  });
});

describe('token auth', () => {
  it('a verification by digest asks the token server once, though its HEAD and reads meet the challenge together', async () => {
    const host = token.host;
    const digest = await seed(host, 'private/once', 'v1', clientWith(USER, REGISTRY_PASSWORD));
    const env = { DOCKER_CONFIG: writeDockerConfig(join(authDir, 'once'), host, USER, REGISTRY_PASSWORD) };
    const image = `${host}/private/once@${digest}`;
    ok(await run(['sign', '--engine', 'native', '--key', 'cosign.key', '--format', 'legacy', image], env));
    const before = tokenServer.issued();
    ok(await run(['verify', '--engine', 'native', '--key', 'cosign.pub', image], env));
    expect(tokenServer.issued() - before).toBe(1);
  });
});

describe('registry errors: one line, a stable code, no stack', () => {
  it('an unknown image is IMAGE_NOT_FOUND', async () => {
    expectFailure(
      await run(['sign', '--engine', 'native', '--key', 'cosign.key', `${open.host}/no/such:v1`]),
      1,
      'IMAGE_NOT_FOUND',
    );
    expectFailure(
      await run(['verify', '--engine', 'native', '--key', 'cosign.pub', `${open.host}/no/such:v1`]),
      1,
      'IMAGE_NOT_FOUND',
    );
  });

  it('a registry that is down is REGISTRY_UNAVAILABLE', async () => {
    const down = await startRegistry();
    await down.stop();
    expectFailure(
      await run(['verify', '--engine', 'native', '--key', 'cosign.pub', `${down.host}/a/b:v1`]),
      1,
      'REGISTRY_UNAVAILABLE',
    );
  });

  it('a registry host that does not resolve is REGISTRY_UNAVAILABLE, with or without --allow-http-registry', async () => {
    expectFailure(
      await run(['verify', '--engine', 'native', '--key', 'cosign.pub', 'registry.invalid:5000/a/b:v1']),
      1,
      'REGISTRY_UNAVAILABLE',
    );
    expectFailure(
      await run([
        'verify',
        '--allow-http-registry',
        '--engine',
        'native',
        '--key',
        'cosign.pub',
        'registry.invalid:5000/a/b:v1',
      ]),
      1,
      'REGISTRY_UNAVAILABLE',
    );
  });

  it('an image with no signatures fails verification with exit 2', async () => {
    await seed(open.host, 'unsigned/app', 'v1');
    expectFailure(
      await run(['verify', '--engine', 'native', '--key', 'cosign.pub', `${open.host}/unsigned/app:v1`]),
      2,
      /no signatures found/,
    );
    expectFailure(
      await run(['verify-attestation', '--engine', 'native', '--key', 'cosign.pub', `${open.host}/unsigned/app:v1`]),
      2,
      'VERIFICATION_FAILED',
    );
  });

  it('a signature tag that is not an image manifest is NOT_AN_IMAGE', async () => {
    const digest = await seed(open.host, 'odd/app', 'v1');
    const client = clientWith('', '');
    const repo = { registry: open.host, repository: 'odd/app' };
    const index = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }),
    );
    await client.putManifest(repo, `${digest.replace(':', '-')}.sig`, index, 'application/vnd.oci.image.index.v1+json');
    expectFailure(
      await run(['verify', '--engine', 'native', '--key', 'cosign.pub', `${open.host}/odd/app:v1`]),
      1,
      'NOT_AN_IMAGE',
    );
  });

  it('a garbage signature layer is SIGNATURE_MALFORMED (exit 3); beside a good one it is ignored', async () => {
    const digest = await seed(open.host, 'garbage/app', 'v1');
    const client = clientWith('', '');
    const repo = { registry: open.host, repository: 'garbage/app' };
    const garbage = Buffer.from('this is not a simple-signing payload');
    const config = Buffer.from('{}');
    await client.pushBlob(repo, garbage);
    await client.pushBlob(repo, config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: sha256Digest(config),
          size: config.length,
        },
        layers: [
          {
            mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
            digest: sha256Digest(garbage),
            size: garbage.length,
            annotations: { 'dev.cosignproject.cosign/signature': 'bm90IGEgc2lnbmF0dXJl' },
          },
        ],
      }),
    );
    await client.putManifest(
      repo,
      `${digest.replace(':', '-')}.sig`,
      manifest,
      'application/vnd.oci.image.manifest.v1+json',
    );
    const image = `${open.host}/garbage/app:v1`;
    expectFailure(await run(['verify', '--engine', 'native', '--key', 'cosign.pub', image]), 3, 'SIGNATURE_MALFORMED');
    ok(await run(['sign', '--engine', 'native', '--key', 'cosign.key', '--format', 'legacy', image]));
    ok(await run(['verify', '--engine', 'native', '--key', 'cosign.pub', image]));
  });

  it('a garbage Sigstore-bundle referrer is BUNDLE_MALFORMED (exit 3)', async () => {
    const digest = await seed(open.host, 'garbage/bundle', 'v1');
    const client = clientWith('', '');
    const repo = { registry: open.host, repository: 'garbage/bundle' };
    const subject = await client.resolve(repo, digest);
    const garbage = Buffer.from('{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","nothing":"here"}');
    const empty = Buffer.from('{}');
    await client.pushBlob(repo, garbage);
    await client.pushBlob(repo, empty);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256Digest(empty), size: 2 },
        layers: [
          {
            mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
            digest: sha256Digest(garbage),
            size: garbage.length,
          },
        ],
        subject: { mediaType: subject.mediaType, digest, size: subject.size },
        annotations: { 'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1' },
      }),
    );
    const manifestDigest = await client.putManifest(
      repo,
      sha256Digest(manifest),
      manifest,
      'application/vnd.oci.image.manifest.v1+json',
    );
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: manifestDigest,
            size: manifest.length,
            artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
          },
        ],
      }),
    );
    await client.putManifest(repo, digest.replace(':', '-'), index, 'application/vnd.oci.image.index.v1+json');
    expectFailure(
      await run(['verify', '--engine', 'native', '--key', 'cosign.pub', `${open.host}/garbage/bundle:v1`]),
      3,
      'BUNDLE_MALFORMED',
    );
  });
});
