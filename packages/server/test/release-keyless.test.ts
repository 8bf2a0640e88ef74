import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendRegistry } from '@cosignkit/core';
import { DevStack, STACK_FILES } from '@cosignkit/dev-stack';
import { encryptCosignKey } from '@cosignkit/key-file';
import { COSIGN_SIGN_PREDICATE, RegistryClient, resolveImage, signImage } from '@cosignkit/oci';
import { createKeylessSigner, resolveSigningServices } from '@cosignkit/sigstore';
import { attachBundleReferrer, BUNDLE_ANNOTATIONS } from '../../oci/src/bundle-referrer.js';
import { startRegistry, type RunningRegistry } from '../../oci/test/harness/docker-registry.js';
import { seedImage } from '../../oci/test/harness/seed-image.js';
import { createDevEnvironment } from '../src/dev/dev-environment.js';
import { RegistryReleaseChecker } from '../src/release/registry-release-checker.js';
import { parseServerConfig, REFERRERS_ROUTE, SIGN_ROUTE } from '../src/index.js';
import { signBody, startServer, type Running } from './harness.js';
import { startCountingProxy } from './support/counting-proxy.js';

// Keyless release signatures in a real docker-registry — cosign v3's bundle referrers made by
// @cosignkit/sigstore's keyless signer, and cosign 2.x's `.sig` layers made by the real cosign — against
// @cosignkit/dev-stack (@sigstore/mock's Fulcio and Rekor over
// real HTTP on loopback: a mock CA), judged against configured identities with that stack's trusted root.
const RELEASE = 'release-bot@example.com';
const COSIGN = join(fileURLToPath(new URL('../../../', import.meta.url)), '.tools/cosign/usr/bin/cosign');

/** The real cosign (2.x): keyless `sign` on the dev stack writes a `.sig` layer with certificate and SET. */
function cosignSign(image: string, token: string, stackDir: string, stack: DevStack): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      COSIGN,
      [
        'sign',
        '--yes',
        '--fulcio-url',
        stack.fulcioUrl,
        '--rekor-url',
        stack.rekorUrl,
        '--allow-http-registry',
        '--allow-insecure-registry',
        image,
      ],
      {
        cwd: stackDir,
        env: {
          ...process.env,
          HOME: stackDir,
          TUF_ROOT: join(stackDir, 'tuf'),
          SIGSTORE_ID_TOKEN: token,
          SIGSTORE_ROOT_FILE: join(stackDir, STACK_FILES.fulcioRoot),
          SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: join(stackDir, STACK_FILES.ctLogKey),
          SIGSTORE_REKOR_PUBLIC_KEY: join(stackDir, STACK_FILES.rekorKey),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`cosign sign exited ${code}: ${out}`))));
  });
}
const ROGUE = 'rogue@example.com';

let registry: RunningRegistry;
let stack: DevStack;
let dir: string;
let s: Running;
let keys: BackendRegistry;
const client = new RegistryClient({});
const images: Record<string, string> = {};

beforeAll(async () => {
  registry = await startRegistry();
  dir = await mkdtemp(join(tmpdir(), 'cosignkit-release-keyless-'));
  stack = await DevStack.start({ identity: RELEASE });
  await stack.writeFiles(join(dir, 'stack'));
  const services = await resolveSigningServices({
    signingConfigPath: join(dir, 'stack', STACK_FILES.signingConfig),
    keyless: true,
  });
  const keylessSigner = (subject: string) =>
    createKeylessSigner({ services, getToken: () => stack.issueToken({ subject }) }).signer;
  const release = keylessSigner(RELEASE);
  const rogue = keylessSigner(ROGUE);
  const repo = { registry: registry.host, repository: 'scanner' };
  /** cosign v3's image signature: a DSSE bundle of the sign predicate naming `named`, referring to `digest`. */
  const signKeyless = async (digest: string, signer: typeof release, named = digest) => {
    const image = await resolveImage(client, `${registry.host}/scanner@${digest}`);
    const statement = Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: `${registry.host}/scanner`, digest: { sha256: named.slice('sha256:'.length) } }],
        predicateType: COSIGN_SIGN_PREDICATE,
        predicate: {},
      }),
    );
    const bundle = await signer.signDsse('application/vnd.in-toto+json', statement);
    await attachBundleReferrer(
      client as never,
      repo,
      { mediaType: image.mediaType, digest: image.digest, size: image.size },
      Buffer.from(JSON.stringify(bundle)),
      { [BUNDLE_ANNOTATIONS.content]: 'dsse-envelope', [BUNDLE_ANNOTATIONS.predicateType]: COSIGN_SIGN_PREDICATE },
    );
  };
  const env = await createDevEnvironment(dir);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(join(dir, 'release.key'), await encryptCosignKey(privateKey, ''), { mode: 0o600 });
  await writeFile(join(dir, 'release.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  keys = new BackendRegistry({ env: { ...process.env, COSIGN_PASSWORD: '' }, importer: (x) => import(x) });
  const opened = await keys.open(join(dir, 'release.key'));

  for (const name of [
    'keyless',
    'rogue',
    'mixed',
    'twoTrusted',
    'otherDigest',
    'keyAndIdentity',
    'unsigned',
    'cosignLegacy',
    'cosignRogue',
  ]) {
    images[name] = await seedImage(client as never, registry.host, 'scanner', name);
  }
  await signKeyless(images.keyless!, release);
  await signKeyless(images.rogue!, rogue);
  await signKeyless(images.mixed!, release);
  await signKeyless(images.mixed!, rogue);
  await signKeyless(images.twoTrusted!, release);
  await signKeyless(images.twoTrusted!, release);
  await signKeyless(images.otherDigest!, release, images.keyless!);
  await signKeyless(images.keyAndIdentity!, release);
  const stackDir = join(dir, 'stack');
  await cosignSign(`${registry.host}/scanner@${images.cosignLegacy}`, await stack.issueToken(), stackDir, stack);
  await cosignSign(
    `${registry.host}/scanner@${images.cosignRogue}`,
    await stack.issueToken({ subject: ROGUE }),
    stackDir,
    stack,
  );
  await signImage(client, `${registry.host}/scanner@${images.keyAndIdentity}`, {
    manager: opened.manager,
    keyId: opened.keyId,
    format: 'legacy',
  });

  const patch = (c: Record<string, any>) => {
    c.release = {
      repository: `${registry.host}/scanner`,
      trustedKeys: [join(dir, 'release.pub')],
      trustedIdentities: [
        { identity: RELEASE, issuer: stack.issuerUrl },
        // A regexp pair that matches nothing the stack issues: it must not widen anything.
        { identityRegexp: '^ci@corp\\.example$', issuerRegexp: '^https://token\\.actions\\.githubusercontent\\.com$' },
      ],
      trustedRoot: join(dir, 'stack', STACK_FILES.trustedRoot),
      insecure: true,
    };
  };
  const probe = structuredClone(env.config) as Record<string, any>;
  patch(probe);
  const checker = await RegistryReleaseChecker.create(parseServerConfig(probe, dir).release);
  s = await startServer(patch, { env, release: checker });
}, 180_000);
afterAll(async () => {
  await s?.close();
  await keys?.close();
  await registry?.stop();
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('trusted release identities (keyless release signatures in a real registry)', () => {
  it('a release signed keyless by a trusted identity is trusted, with or without a trusted key beside it, and signing proceeds', async () => {
    const c = await s.client();
    for (const [name, signers] of [
      ['keyless', 1],
      ['cosignLegacy', 1],
      ['twoTrusted', 1],
      ['keyAndIdentity', 2],
    ] as const) {
      const verdict = await c.request('GET', `${REFERRERS_ROUTE}?digest=${images[name]}`);
      expect(verdict.status, JSON.stringify(verdict.body)).toBe(200);
      const body = verdict.body as any;
      expect(body.trusted, `${name}: ${body.reason}`).toBe(true);
      expect(body.signers, name).toHaveLength(signers);
      expect(body.signers.some((x: string) => x.includes(RELEASE))).toBe(true);
      const signed = await c.request('POST', SIGN_ROUTE, signBody(s.env, { scannerImageDigest: images[name] }));
      expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    }
  });

  it('an untrusted identity, a mix of trusted and untrusted, a statement for another digest and no signature are refused', async () => {
    const c = await s.client();
    const reasons: Record<string, RegExp> = {
      rogue: /no signature by a trusted/,
      cosignRogue: /no signature by a trusted/,
      mixed: /ambiguous/,
      otherDigest: /no signature by a trusted/,
      unsigned: /unsigned/,
    };
    for (const [name, reason] of Object.entries(reasons)) {
      const verdict = await c.request('GET', `${REFERRERS_ROUTE}?digest=${images[name]}`);
      expect(verdict.status).toBe(200);
      expect((verdict.body as any).trusted, name).toBe(false);
      expect((verdict.body as any).reason, name).toMatch(reason);
      const refused = await c.request('POST', SIGN_ROUTE, signBody(s.env, { scannerImageDigest: images[name] }));
      expect(refused.status, name).toBe(403);
      expect((refused.body as any).type).toBe('https://cosignkit.dev/problems/untrusted-release');
    }
  });

  it('with keys and identities, one check reads the registry once: no request is repeated', async () => {
    const proxy = await startCountingProxy(registry.host);
    try {
      const probe = structuredClone(s.env.config) as Record<string, any>;
      probe.release = {
        repository: `${proxy.host}/scanner`,
        trustedKeys: [join(dir, 'release.pub')],
        trustedIdentities: [{ identity: RELEASE, issuer: stack.issuerUrl }],
        trustedRoot: join(dir, 'stack', STACK_FILES.trustedRoot),
        insecure: true,
      };
      const checker = await RegistryReleaseChecker.create(parseServerConfig(probe, dir).release);
      // A key-signed `.sig` layer beside a keyless bundle referrer: both layouts, both kinds of trust.
      for (const name of ['keyAndIdentity', 'cosignLegacy'] as const) {
        proxy.requests.length = 0;
        const verdict = await checker.check(images[name]!);
        expect(verdict.trusted, `${name}: ${verdict.reason}`).toBe(true);
        const sigTag = `sha256-${images[name]!.slice('sha256:'.length)}`;
        // Both layouts were read: the `.sig` tag and the referrers (API or tag fallback).
        expect(
          proxy.requests.some((r) => r.includes(`/manifests/${sigTag}.sig`)),
          name,
        ).toBe(true);
        expect(
          proxy.requests.some((r) => r.includes(`referrers`) || r.endsWith(`/manifests/${sigTag}`)),
          name,
        ).toBe(true);
        const repeated = proxy.requests.filter((r, i) => proxy.requests.indexOf(r) !== i);
        expect(repeated, `${name}: ${proxy.requests.join(', ')}`).toEqual([]);
      }
    } finally {
      await proxy.close();
    }
  });

  it('without the identities (keys only), a keyless release is not trusted: the key check alone fails closed', async () => {
    const probe = structuredClone(s.env.config) as Record<string, any>;
    probe.release = {
      repository: `${registry.host}/scanner`,
      trustedKeys: [join(dir, 'release.pub')],
      insecure: true,
    };
    const keysOnly = await RegistryReleaseChecker.create(parseServerConfig(probe, dir).release);
    expect((await keysOnly.check(images.keyless!)).trusted).toBe(false);
    expect((await keysOnly.check(images.cosignLegacy!)).trusted).toBe(false);
    // The key-signed legacy signature next to a keyless one it cannot judge: ambiguous, not trusted.
    const both = await keysOnly.check(images.keyAndIdentity!);
    expect(both.trusted).toBe(false);
    expect(both.reason).toMatch(/ambiguous/);
  });

  it('config: identities need a trusted root, and each needs one identity and one issuer (one line each)', async () => {
    const parse = (release: Record<string, unknown>) => () => {
      const c = structuredClone(s.env.config) as Record<string, any>;
      c.release = { repository: 'r/x', ...release };
      return parseServerConfig(c, dir);
    };
    expect(parse({ trustedIdentities: [{ identity: 'a', issuer: 'b' }] })).toThrow(/need a trustedRoot/);
    expect(parse({ trustedIdentities: [{ identity: 'a' }], trustedRoot: 'x' })).toThrow(
      /trustedIdentities\[0\]: give exactly one of issuer and issuerRegexp/,
    );
    expect(
      parse({ trustedIdentities: [{ identity: 'a', identityRegexp: 'b', issuer: 'c' }], trustedRoot: 'x' }),
    ).toThrow(/give exactly one of identity and identityRegexp/);
    const bad = parseServerConfig(
      {
        ...(structuredClone(s.env.config) as Record<string, any>),
        release: {
          repository: 'r/x',
          trustedIdentities: [{ identityRegexp: '(unclosed', issuer: 'b' }],
          trustedRoot: join(dir, 'stack', STACK_FILES.trustedRoot),
        },
      },
      dir,
    );
    await expect(RegistryReleaseChecker.create(bad.release)).rejects.toThrow(/trustedIdentities\[0\]/);
    const noRoot = parseServerConfig(
      {
        ...(structuredClone(s.env.config) as Record<string, any>),
        release: {
          repository: 'r/x',
          trustedIdentities: [{ identity: 'a', issuer: 'b' }],
          trustedRoot: 'missing.json',
        },
      },
      dir,
    );
    await expect(RegistryReleaseChecker.create(noRoot.release)).rejects.toThrow(/^release\.trustedRoot: /);
  });
});
