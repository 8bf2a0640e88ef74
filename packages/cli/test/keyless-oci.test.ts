import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DevStack, STACK_FILES, type StackInfo } from '@cosignkit/dev-stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cosign,
  cosignkit,
  expectFailure,
  expectNoStackNoSecret,
  PASSWORD,
  requireCosign,
  tempHome,
  type Run,
} from './helpers.js';
import { createKeylessSigner } from '@cosignkit/sigstore';
import { attachBundleReferrer } from '../../oci/src/bundle-referrer.js';
import { RegistryClient as SourceRegistryClient } from '../../oci/src/registry-client.js';
import { RegistryClient, seed, startRegistry, type RunningRegistry } from './oci-setup.js';

// Keyless image signatures made by the REAL cosign 2.5 against @cosignkit/dev-stack (@sigstore/mock's Fulcio,
// Rekor and TSA, and an OIDC issuer, served over real HTTP on loopback in this process) on a real
// docker-registry; cosignkit verifies them offline with the stack's trusted root.
let stack: DevStack;
let info: StackInfo;
let registry: RunningRegistry;
const home = tempHome();
const cwd = home.dir;
const client = new RegistryClient({ credentials: async () => undefined });
const trust = (name: keyof typeof STACK_FILES) => join(cwd, 'stack', STACK_FILES[name]);
// cosign 2.x trust for the stack (its SIGSTORE_* variables), and a TUF_ROOT of its own so it never goes online.
const cosignEnv = () => ({
  TUF_ROOT: join(cwd, 'tuf'),
  SIGSTORE_ROOT_FILE: trust('fulcioRoot'),
  SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: trust('ctLogKey'),
  SIGSTORE_REKOR_PUBLIC_KEY: trust('rekorKey'),
});
const keylessFlags = () => [
  '--fulcio-url',
  info.fulcioUrl,
  '--rekor-url',
  info.rekorUrl,
  '--identity-token',
  info.token,
];

let signedImage: string; // .sig keyless by cosign sign
let attestedImage: string; // .att keyless by cosign attest, and a bundle referrer by cosign attest --new-bundle-format
let unsignedImage: string;

async function cosignOk(args: string[]): Promise<Run> {
  const r = await cosign(args, { cwd, env: cosignEnv() });
  expect(r.code, `cosign ${args[0]}: ${r.stderr}`).toBe(0);
  return r;
}

const verifyArgs = (identity = info.identity, issuer = info.issuerUrl) => [
  '--certificate-identity',
  identity,
  '--certificate-oidc-issuer',
  issuer,
  '--trusted-root',
  trust('trustedRoot'),
];
const run = (args: string[]) => cosignkit(args, { cwd });

beforeAll(async () => {
  requireCosign();
  [stack, registry] = await Promise.all([DevStack.start(), startRegistry()]);
  info = await stack.writeFiles(join(cwd, 'stack'));
  writeFileSync(join(cwd, 'predicate.json'), '{"buildType":"https://example.com/b@v1","builder":{"id":"dev-stack"}}');
  const [d1, d2, d3] = await Promise.all([
    seed(registry.host, 'kl/signed', 'v1'),
    seed(registry.host, 'kl/attested', 'v1'),
    seed(registry.host, 'kl/unsigned', 'v1'),
  ]);
  signedImage = `${registry.host}/kl/signed@${d1}`;
  attestedImage = `${registry.host}/kl/attested@${d2}`;
  unsignedImage = `${registry.host}/kl/unsigned@${d3}`;
  await cosignOk(['sign', ...keylessFlags(), '--yes', signedImage]);
  const attest = ['attest', ...keylessFlags(), '--yes', '--predicate', 'predicate.json', '--type', 'slsaprovenance'];
  await cosignOk([...attest, attestedImage]);
  await cosignOk([...attest, '--new-bundle-format', attestedImage]);
}, 120_000);

afterAll(async () => {
  await Promise.all([stack?.close(), registry?.stop()]);
  home.cleanup();
});

describe('keyless verify of images signed by the real cosign on the local stack', () => {
  it('verifies the .sig layer (certificate, chain and Rekor SET annotations) and reports who signed it', async () => {
    // cosign itself agrees first: the image is really signed keyless on this stack.
    await cosignOk([
      'verify',
      '--certificate-identity',
      info.identity,
      '--certificate-oidc-issuer',
      info.issuerUrl,
      signedImage,
    ]);
    const r = await run(['verify', ...verifyArgs(), signedImage]);
    expect(r.code, r.stderr).toBe(0);
    expectNoStackNoSecret(r);
    expect(JSON.parse(r.stdout)[0].critical.image['docker-manifest-digest']).toBe(signedImage.split('@')[1]);
    expect(r.stderr).toContain(`signed by ${info.identity} (issuer ${info.issuerUrl})`);
    const json = JSON.parse((await run(['--json', 'verify', ...verifyArgs(), signedImage])).stdout);
    expect(json.verified).toBe(true);
    expect(json.trustedRoot).toEqual(expect.objectContaining({ kind: 'file' }));
    const signature = json.signatures[0];
    expect(signature.certificate).toEqual(expect.objectContaining({ identity: info.identity, issuer: info.issuerUrl }));
    expect(signature.tlogEntries).toEqual([
      expect.objectContaining({ kind: 'hashedrekord', logIndex: expect.any(Number) }),
    ]);
    expect(signature.timestamps[0].source).toBe('transparency-log');
  });

  it('a wrong identity, a wrong issuer or a regexp matching nothing: exit 2 naming what did not match', async () => {
    const wrong = await run(['verify', ...verifyArgs('mallory@example.com'), signedImage]);
    expectFailure(wrong, 2, 'VERIFICATION_FAILED');
    expect(wrong.stderr).toMatch(/mallory@example\.com/);
    expectFailure(await run(['verify', ...verifyArgs(info.identity, 'https://accounts.google.com'), signedImage]), 2);
    const regexp = await run([
      'verify',
      '--certificate-identity-regexp',
      '^nobody@example\\.com$',
      '--certificate-oidc-issuer',
      info.issuerUrl,
      '--trusted-root',
      trust('trustedRoot'),
      signedImage,
    ]);
    expectFailure(regexp, 2, 'VERIFICATION_FAILED');
  });

  it('no identity flags and no key: a usage error, as cosign', async () => {
    const r = await run(['verify', '--trusted-root', trust('trustedRoot'), signedImage]);
    expectFailure(r, 1, 'USAGE');
  });

  it('an unsigned image, and an image whose signature is keyed only: exit 2', async () => {
    expectFailure(await run(['verify', ...verifyArgs(), unsignedImage]), 2, 'VERIFICATION_FAILED');
    const keyed = `${registry.host}/kl/keyed@${await seed(registry.host, 'kl/keyed', 'v1')}`;
    const env = { ...cosignEnv(), COSIGN_PASSWORD: PASSWORD };
    expect((await cosign(['generate-key-pair'], { cwd, env })).code).toBe(0);
    expect(
      (await cosign(['sign', '--key', 'cosign.key', '--tlog-upload=false', '--yes', keyed], { cwd, env })).code,
    ).toBe(0);
    const r = await run(['verify', ...verifyArgs(), keyed]);
    expectFailure(r, 2, 'VERIFICATION_FAILED');
    expect(r.stderr).toContain('no certificate on the signature');
    expect((await run(['verify', '--key', 'cosign.pub', keyed])).code).toBe(0);
  });

  it('tampered: a flipped signature, a changed Rekor SET, a swapped certificate or a foreign root: exit 2', async () => {
    const tag = `${signedImage.split('@')[1]!.replace(':', '-')}.sig`;
    const repo = { registry: registry.host, repository: 'kl/signed' };
    const original = (await client.findManifest(repo, tag))!;
    const withLayerAnnotations = async (edit: (a: Record<string, string>) => void) => {
      const manifest = JSON.parse(original.bytes.toString('utf8'));
      edit(manifest.layers[0].annotations);
      await client.putManifest(repo, tag, Buffer.from(JSON.stringify(manifest)), manifest.mediaType);
    };
    const attestationCert = await attestationCertificate();
    try {
      await withLayerAnnotations((a) => {
        const sig = Buffer.from(a['dev.cosignproject.cosign/signature']!, 'base64');
        sig[sig.length - 3]! ^= 1;
        a['dev.cosignproject.cosign/signature'] = sig.toString('base64');
      });
      expectFailure(await run(['verify', ...verifyArgs(), signedImage]), 2, 'VERIFICATION_FAILED');
      await withLayerAnnotations((a) => {
        const bundle = JSON.parse(a['dev.sigstore.cosign/bundle']!);
        bundle.Payload.integratedTime += 1;
        a['dev.sigstore.cosign/bundle'] = JSON.stringify(bundle);
      });
      const set = await run(['verify', ...verifyArgs(), signedImage]);
      expectFailure(set, 2, 'VERIFICATION_FAILED');
      expect(set.stderr).toMatch(/TLOG_INCLUSION_PROMISE_ERROR|signed entry timestamp/i);
      // Another certificate of the same identity and CA, but of another key than the signature's.
      await withLayerAnnotations((a) => {
        a['dev.sigstore.cosign/certificate'] = attestationCert;
      });
      expectFailure(await run(['verify', ...verifyArgs(), signedImage]), 2, 'VERIFICATION_FAILED');
      // A garbage Rekor bundle annotation is malformed input: exit 3.
      await withLayerAnnotations((a) => {
        a['dev.sigstore.cosign/bundle'] = '{not json';
      });
      expectFailure(await run(['verify', ...verifyArgs(), signedImage]), 3, 'BUNDLE_MALFORMED');
    } finally {
      await client.putManifest(repo, tag, original.bytes, 'application/vnd.oci.image.manifest.v1+json');
    }
    expect((await run(['verify', ...verifyArgs(), signedImage])).code).toBe(0);
    // The public-good root does not know the stack's Fulcio.
    const foreign = await run(['verify', ...verifyArgs().slice(0, 4), '--offline', signedImage]);
    expectFailure(foreign, 2, 'VERIFICATION_FAILED');
  });

  it('--insecure-ignore-tlog: no Rekor entry needed, the certificate checked at the current time', async () => {
    const tag = `${signedImage.split('@')[1]!.replace(':', '-')}.sig`;
    const repo = { registry: registry.host, repository: 'kl/signed' };
    const original = (await client.findManifest(repo, tag))!;
    const manifest = JSON.parse(original.bytes.toString('utf8'));
    delete manifest.layers[0].annotations['dev.sigstore.cosign/bundle'];
    await client.putManifest(repo, tag, Buffer.from(JSON.stringify(manifest)), manifest.mediaType);
    try {
      expectFailure(await run(['verify', ...verifyArgs(), signedImage]), 2, 'VERIFICATION_FAILED');
      const r = await run(['--json', 'verify', ...verifyArgs(), '--insecure-ignore-tlog', signedImage]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).signatures[0].tlogEntries).toEqual([]);
    } finally {
      await client.putManifest(repo, tag, original.bytes, manifest.mediaType);
    }
  });
});

describe('keyless verify-attestation of images attested by the real cosign on the local stack', () => {
  it('verifies both the .att layer and the Sigstore bundle referrer (--new-bundle-format)', async () => {
    const r = await run(['--json', 'verify-attestation', '--type', 'slsaprovenance', ...verifyArgs(), attestedImage]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.verified).toBe(true);
    expect(json.found.map((f: { format: string; verified: boolean }) => [f.format, f.verified]).sort()).toEqual([
      ['bundle', true],
      ['legacy', true],
    ]);
    for (const s of json.signatures) {
      expect(s.certificate.identity).toBe(info.identity);
      expect(s.tlogEntries[0].kind).toBe('dsse');
    }
  });

  it('a wrong identity fails both layouts (exit 2); another --type finds none (exit 2)', async () => {
    const wrong = await run([
      'verify-attestation',
      '--type',
      'slsaprovenance',
      ...verifyArgs('mallory@example.com'),
      attestedImage,
    ]);
    expectFailure(wrong, 2, 'VERIFICATION_FAILED');
    expect(wrong.stderr).toMatch(/\.att layer 0: .*mallory/);
    expect(wrong.stderr).toMatch(/referrer sha256:[0-9a-f]{64}: .*mallory/);
    expectFailure(await run(['verify-attestation', '--type', 'spdxjson', ...verifyArgs(), attestedImage]), 2);
  });

  it("an attestation copied onto another image's tag does not verify for it (its subject is the other digest)", async () => {
    const attTag = `${attestedImage.split('@')[1]!.replace(':', '-')}.att`;
    const from = { registry: registry.host, repository: 'kl/attested' };
    const copy = (await client.findManifest(from, attTag))!;
    const target = await seed(registry.host, 'kl/attested', 'other');
    const manifest = JSON.parse(copy.bytes.toString('utf8'));
    await client.putManifest(from, `${target.replace(':', '-')}.att`, copy.bytes, manifest.mediaType);
    const r = await run([
      'verify-attestation',
      '--type',
      'slsaprovenance',
      ...verifyArgs(),
      `${registry.host}/kl/attested@${target}`,
    ]);
    expectFailure(r, 2, 'VERIFICATION_FAILED');
    expect(r.stderr).toMatch(/subject/);
  });
});

describe('keyless signature bundle referrers (cosign v3 layout)', () => {
  // cosign 2.5 has no `sign --new-bundle-format`: the referrer is what cosign v3 writes, a DSSE statement of
  // the https://sigstore.dev/cosign/sign/v1 predicate, signed keyless here by @cosignkit/sigstore on the stack.
  it('verifies a keyless DSSE bundle referrer of the signing predicate; its subject must be the image', async () => {
    const digest = await seed(registry.host, 'kl/referred', 'v1');
    const image = `${registry.host}/kl/referred@${digest}`;
    const repo = { registry: registry.host, repository: 'kl/referred' };
    const head = await client.resolve(repo, digest);
    const { signer } = createKeylessSigner({
      services: { fulcioUrl: info.fulcioUrl, rekorUrl: info.rekorUrl },
      getToken: async () => info.token,
    });
    const attach = async (subjectHex: string) => {
      const statement = {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: `${registry.host}/kl/referred`, digest: { sha256: subjectHex } }],
        predicateType: 'https://sigstore.dev/cosign/sign/v1',
        predicate: {},
      };
      const bundle = await signer.signDsse('application/vnd.in-toto+json', Buffer.from(JSON.stringify(statement)));
      // The writer is oci's own (not exported): its source's client type.
      await attachBundleReferrer(
        new SourceRegistryClient({ credentials: async () => undefined }),
        repo,
        { mediaType: head.mediaType, digest, size: head.size },
        Buffer.from(JSON.stringify(bundle)),
        {
          'dev.sigstore.bundle.content': 'dsse-envelope',
          'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1',
        },
      );
    };
    // First a referrer whose statement names another digest: found, not verified.
    await attach('0'.repeat(64));
    expectFailure(await run(['verify', ...verifyArgs(), image]), 2, 'VERIFICATION_FAILED');
    await attach(digest.slice('sha256:'.length));
    const r = await run(['--json', 'verify', ...verifyArgs(), image]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.found.filter((f: { verified: boolean }) => f.verified)).toHaveLength(1);
    expect(json.signatures.find((s: { verified: boolean }) => s.verified).certificate.identity).toBe(info.identity);
    expectFailure(await run(['verify', ...verifyArgs('mallory@example.com'), image]), 2, 'VERIFICATION_FAILED');
    // It is a signature, not an attestation.
    expectFailure(await run(['verify-attestation', ...verifyArgs(), image]), 2, 'VERIFICATION_FAILED');
  });
});

describe('verify with several images (issue 16)', () => {
  it('verifies each, prints a summary, exits 0 only when all verified and 2 when any did not', async () => {
    const all = await run(['verify', ...verifyArgs(), signedImage, `${registry.host}/kl/signed:v1`]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr).toMatch(/verify: verified 2 of 2/);
    const mixed = await run(['--json', 'verify', ...verifyArgs(), '--jobs', '2', signedImage, unsignedImage]);
    expect(mixed.code).toBe(2);
    const lines = mixed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.find((l) => l.file === signedImage).status).toBe('ok');
    expect(lines.find((l) => l.file === unsignedImage).status).toBe('unverified');
    expect(mixed.stderr).toContain(`cosignkit: ${unsignedImage}: `);
    expect(mixed.stderr).toMatch(/verified 1, failed verification 1 of 2/);
    // With a key too (the key-based path is the same batch).
    const keyed = await run(['verify', '--key', join(cwd, 'stack', STACK_FILES.rekorKey), signedImage, unsignedImage]);
    expect(keyed.code).toBe(2);
  });
});

/** The certificate of the keyless `.att` layer: same CA and identity as the `.sig` one, another key. */
async function attestationCertificate(): Promise<string> {
  const repo = { registry: registry.host, repository: 'kl/attested' };
  const tag = `${attestedImage.split('@')[1]!.replace(':', '-')}.att`;
  const manifest = JSON.parse((await client.findManifest(repo, tag))!.bytes.toString('utf8'));
  return manifest.layers[0].annotations['dev.sigstore.cosign/certificate'];
}
