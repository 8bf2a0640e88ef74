import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEvilHost, type EvilHost } from '../../oci/test/harness/evil-host.js';
import { htpasswdAuth, writeDockerConfig, writeHtpasswd } from '../../oci/test/harness/registry-auth.js';
import { startTamperingProxy, type TamperingProxy } from '../../oci/test/harness/tampering-proxy.js';
import { cosignkit, expectFailure, expectNoStackNoSecret, PASSWORD, requireCosign, type Run } from './helpers.js';
import { ociWorkspace, RegistryClient, seed, startRegistry, type RunningRegistry } from './oci-setup.js';

// A malicious registry: real docker-registries behind tampering proxies (127.0.0.1), and an "evil" host on
// another origin (127.0.0.2) that records what it receives.
const USER = 'ci-bot';
const REGISTRY_PASSWORD = 'registry-pw-hostile-5d1e';
let ws: { dir: string; cleanup: () => void };
let authDir: string;
let open: RunningRegistry;
let basic: RunningRegistry;
let openProxy: TamperingProxy;
let basicProxy: TamperingProxy;
let evil: EvilHost;
let dockerConfig: string;

beforeAll(async () => {
  requireCosign();
  ws = await ociWorkspace();
  authDir = mkdtempSync(join(tmpdir(), 'cosignkit-oci-hostile-'));
  [open, basic, evil] = await Promise.all([
    startRegistry(),
    startRegistry({ auth: htpasswdAuth(writeHtpasswd(authDir, USER, REGISTRY_PASSWORD)) }),
    startEvilHost(),
  ]);
  [openProxy, basicProxy] = await Promise.all([startTamperingProxy(open.host), startTamperingProxy(basic.host)]);
  dockerConfig = writeDockerConfig(authDir, basicProxy.host, USER, REGISTRY_PASSWORD);
});
afterAll(async () => {
  await Promise.all([openProxy?.stop(), basicProxy?.stop(), evil?.stop(), open?.stop(), basic?.stop()]);
  ws?.cleanup();
  if (authDir) rmSync(authDir, { recursive: true, force: true });
});
beforeEach(() => {
  openProxy.tamper = {};
  basicProxy.tamper = {};
  evil.answer = undefined;
  evil.requests.length = 0;
});

const run = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
  cosignkit(args, { cwd: ws.dir, env: { COSIGN_PASSWORD: PASSWORD, DOCKER_CONFIG: dockerConfig, ...env } });

function ok(r: Run): Run {
  expect(r.code, `exit code; stderr: ${r.stderr}`).toBe(0);
  expectNoStackNoSecret(r);
  expect(r.stderr + r.stdout).not.toContain(REGISTRY_PASSWORD);
  return r;
}

function expectNoCredentialsAtEvil(): void {
  expect(evil.requests.length, 'the evil host was reached').toBeGreaterThan(0);
  for (const r of evil.requests) expect(r.headers.authorization, `${r.method} ${r.url}`).toBeUndefined();
  expect(
    evil.requests.filter((r) => r.url.startsWith('/token')),
    'the evil realm was asked for a token',
  ).toEqual([]);
}

describe('a tag that HEAD and GET resolve differently (the cosign engine)', () => {
  it('verify and verify-attestation check the digest cosignkit resolved and report only that one', async () => {
    const repository = 'hostile/swap';
    const signed = await seed(openProxy.host, repository, 'v1');
    const unsigned = await seed(openProxy.host, repository, 'unsigned');
    const tag = `${openProxy.host}/${repository}:v1`;
    ok(await run(['sign', '--engine', 'native', '--format', 'legacy', '--key', 'cosign.key', tag]));
    ok(
      await run([
        'attest',
        '--engine',
        'native',
        '--format',
        'legacy',
        '--key',
        'cosign.key',
        '--predicate',
        'predicate.json',
        tag,
      ]),
    );
    // Untampered, the cosign engine verifies the tag and reports the signed digest.
    const honest = JSON.parse(
      ok(await run(['--json', 'verify', '--engine', 'cosign', '--key', 'cosign.pub', tag])).stdout,
    ) as Record<string, unknown>;
    expect(honest).toMatchObject({
      verified: true,
      engine: 'cosign',
      artifact: { digest: { hex: signed.slice('sha256:'.length) } },
    });
    ok(await run(['verify-attestation', '--engine', 'cosign', '--key', 'cosign.pub', tag]));

    // HEAD of the tag names the unsigned image; GET of the tag (what cosign used to resolve) the signed one.
    openProxy.tamper = {
      path: (req) =>
        req.method === 'HEAD' && req.url === `/v2/${repository}/manifests/v1`
          ? `/v2/${repository}/manifests/${unsigned}`
          : undefined,
    };
    for (const args of [['verify'], ['verify-attestation']]) {
      const swapped = await run(['--json', ...args, '--engine', 'cosign', '--key', 'cosign.pub', tag]);
      expect(swapped.stdout).not.toMatch(/"verified":\s*true/);
      expectFailure(swapped, 2, 'VERIFICATION_FAILED');
      expect(swapped.stderr).not.toContain(signed);
    }
  });
});

describe("credentials go only to the registry's own origin (CLI)", () => {
  it('sign: an upload Location on another host gets no Authorization, and sign fails with REGISTRY_AUTH', async () => {
    const client = new RegistryClient({ credentials: async () => ({ username: USER, password: REGISTRY_PASSWORD }) });
    const image = `${basicProxy.host}/hostile/upload:v1`;
    await seed(basicProxy.host, 'hostile/upload', 'v1', client);
    basicProxy.tamper = {
      headers(req, status, headers) {
        if (req.method === 'POST' && status === 202 && headers.location) {
          headers.location = `${evil.origin}${new URL(headers.location, 'http://x').pathname}`;
        }
      },
    };
    expectFailure(
      await run(['sign', '--engine', 'native', '--key', 'cosign.key', '--format', 'legacy', image]),
      1,
      'REGISTRY_AUTH',
    );
    expectNoCredentialsAtEvil();
    // cosign does the same: the signing still fails, and nothing reaches the evil host with credentials.
    evil.requests.length = 0;
    const byCosign = await run(['sign', '--engine', 'cosign', '--key', 'cosign.key', image]);
    expect(byCosign.code).toBe(1);
    expectNoStackNoSecret(byCosign);
    expectNoCredentialsAtEvil();
  });

  it('verify: a signature blob redirected to another host asking for a login with its own realm gets no credentials', async () => {
    const client = new RegistryClient({ credentials: async () => ({ username: USER, password: REGISTRY_PASSWORD }) });
    const image = `${basicProxy.host}/hostile/redirect:v1`;
    await seed(basicProxy.host, 'hostile/redirect', 'v1', client);
    // Annotated, so the payload is not the one verification rebuilds: its blob is fetched, and redirected.
    ok(await run(['sign', '--engine', 'native', '--key', 'cosign.key', '--format', 'legacy', '-a', 'build=7', image]));
    ok(await run(['verify', '--engine', 'native', '--key', 'cosign.pub', image]));
    basicProxy.tamper = {
      answer(req, res) {
        if (req.method !== 'GET' || !/\/blobs\/sha256:[0-9a-f]{64}$/.test(req.url ?? '')) return false;
        res.writeHead(307, { location: `${evil.origin}/cdn${req.url}` }).end();
        return true;
      },
    };
    expectFailure(await run(['verify', '--engine', 'native', '--key', 'cosign.pub', image]), 1, 'REGISTRY_AUTH');
    expectNoCredentialsAtEvil();
  });
});
