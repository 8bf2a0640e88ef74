import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BackendRegistry } from '@cosignkit/core';
import { RegistryClient, signImage } from '@cosignkit/oci';
import { encryptCosignKey } from '@cosignkit/key-file';
import { startRegistry, type RunningRegistry } from '../../oci/test/harness/docker-registry.js';
import { seedImage } from '../../oci/test/harness/seed-image.js';
import { createDevEnvironment } from '../src/dev/dev-environment.js';
import { RegistryReleaseChecker } from '../src/release/registry-release-checker.js';
import { parseServerConfig, REFERRERS_ROUTE, SIGN_ROUTE } from '../src/index.js';
import { signBody, startServer, type Running } from './harness.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';

let registry: RunningRegistry;
let s: Running;
let keys: BackendRegistry;
const client = new RegistryClient({});
const images: Record<string, string> = {};

async function keyFile(dir: string, name: string): Promise<string> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(join(dir, `${name}.key`), await encryptCosignKey(privateKey, ''), { mode: 0o600 });
  await writeFile(join(dir, `${name}.pub`), publicKey.export({ type: 'spki', format: 'pem' }));
  return join(dir, `${name}.key`);
}

beforeAll(async () => {
  registry = await startRegistry();
  const dir = await mkdtemp(join(tmpdir(), 'cosignkit-release-'));
  const env = await createDevEnvironment(dir);
  const trusted = await keyFile(dir, 'release');
  const rogue = await keyFile(dir, 'rogue');
  keys = new BackendRegistry({ env: { ...process.env, COSIGN_PASSWORD: '' }, importer: (x) => import(x) });
  const sign = async (digest: string, key: string, format: 'legacy' | 'bundle') => {
    const opened = await keys.open(key);
    await signImage(client, `${registry.host}/scanner@${digest}`, {
      manager: opened.manager,
      keyId: opened.keyId,
      format,
    });
  };
  for (const name of ['legacy', 'bundle', 'unsigned', 'rogue', 'ambiguous']) {
    images[name] = await seedImage(client as never, registry.host, 'scanner', name);
  }
  await sign(images.legacy!, trusted, 'legacy');
  await sign(images.bundle!, trusted, 'bundle');
  await sign(images.rogue!, rogue, 'bundle');
  await sign(images.ambiguous!, trusted, 'legacy');
  await sign(images.ambiguous!, rogue, 'bundle');
  const patch = (c: Record<string, any>) => {
    c.release = { repository: `${registry.host}/scanner`, trustedKeys: [join(dir, 'release.pub')], insecure: true };
  };
  const probe = structuredClone(env.config) as Record<string, any>;
  patch(probe);
  const release = await RegistryReleaseChecker.create(parseServerConfig(probe, dir).release);
  s = await startServer(patch, { env, release });
}, 120_000);
afterAll(async () => {
  await s?.close();
  await keys?.close();
  await registry?.stop();
});

describe('release check against a real docker-registry', () => {
  it('reports trusted releases (legacy .sig tag and bundle referrer) and signs for them', async () => {
    const c = await s.client();
    for (const name of ['legacy', 'bundle']) {
      const verdict = await c.request('GET', `${REFERRERS_ROUTE}?digest=${images[name]}`);
      expect(verdict.status, JSON.stringify(verdict.body)).toBe(200);
      expect((verdict.body as any).trusted, name).toBe(true);
      expect((verdict.body as any).signers).toHaveLength(1);
      const signed = await c.request('POST', SIGN_ROUTE, signBody(s.env, { scannerImageDigest: images[name] }));
      expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    }
  });
  it('reports unsigned, wrongly signed, ambiguous and unknown images untrusted, and refuses to sign for them with 403', async () => {
    const c = await s.client();
    const reasons: Record<string, RegExp> = {
      unsigned: /unsigned/,
      rogue: /no signature by a trusted/,
      ambiguous: /ambiguous/,
      missing: /not in the release repository/,
    };
    for (const name of Object.keys(reasons)) {
      const digest = images[name] ?? `sha256:${'e'.repeat(64)}`;
      const verdict = await c.request('GET', `${REFERRERS_ROUTE}?digest=${digest}`);
      expect(verdict.status).toBe(200);
      expect((verdict.body as any).trusted, name).toBe(false);
      expect((verdict.body as any).reason, name).toMatch(reasons[name]!);
      const refused = await c.request('POST', SIGN_ROUTE, signBody(s.env, { scannerImageDigest: digest }));
      expect(refused.status, name).toBe(403);
      expect((refused.body as any).type).toBe('https://cosignkit.dev/problems/untrusted-release');
    }
  });
  it('refuses the referrers route to a token without signer.verify and a malformed digest', async () => {
    const token = await s.env.authority.issue({
      sub: 'x',
      aud: 'cosignkit-signer',
      scope: 'signer.sign',
      tenant: 'dev-tenant',
      cnf: { 'x5t#S256': s.env.clientThumbprint },
    });
    const c = await s.client({ token });
    expect((await c.request('GET', `${REFERRERS_ROUTE}?digest=${images.legacy}`)).status).toBe(403);
    expect((await (await s.client()).request('GET', `${REFERRERS_ROUTE}?digest=sha256:zz`)).status).toBe(400);
  });
});
