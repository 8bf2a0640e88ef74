import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DevStack, STACK_FILES, type StackInfo } from '@cosignkit/dev-stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosign, cosignkit, expectFailure, expectOk, PASSWORD, requireCosign, tempHome, type Run } from './helpers.js';
import { RegistryClient, seed, startRegistry, type RunningRegistry } from './oci-setup.js';

// Keyless image signing and attesting against the dev stack (@sigstore/mock's Fulcio, Rekor and TSA served
// over real HTTP on loopback, in this process) and a real docker-registry; the real cosign 2.5 verifies.
let stack: DevStack;
let info: StackInfo;
let registry: RunningRegistry;
const home = tempHome();
const cwd = home.dir;
const trust = (name: keyof typeof STACK_FILES) => join(cwd, 'stack', STACK_FILES[name]);
const client = new RegistryClient({ credentials: async () => undefined });
// cosign 2.x's trust for the stack through its SIGSTORE_* variables, and a TUF_ROOT of its own (never online).
const cosignEnv = () => ({
  TUF_ROOT: join(cwd, 'tuf'),
  SIGSTORE_ROOT_FILE: trust('fulcioRoot'),
  SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: trust('ctLogKey'),
  SIGSTORE_REKOR_PUBLIC_KEY: trust('rekorKey'),
  SIGSTORE_TSA_CERTIFICATE_FILE: trust('tsaChain'),
  COSIGN_PASSWORD: PASSWORD,
});

beforeAll(async () => {
  requireCosign();
  [stack, registry] = await Promise.all([DevStack.start(), startRegistry()]);
  info = await stack.writeFiles(join(cwd, 'stack'));
  writeFileSync(
    join(cwd, 'predicate.json'),
    '{"builder":{"id":"dev-stack"},"buildType":"https://example.com/dev-stack@v1"}',
  );
});

afterAll(async () => {
  await Promise.all([stack?.close(), registry?.stop()]);
  home.cleanup();
});

const keyless = (args: string[], env: Record<string, string | undefined> = { SIGSTORE_ID_TOKEN: info.token }) =>
  cosignkit([args[0]!, '--signing-config', trust('signingConfig'), ...args.slice(1)], { cwd, env });

const cosignVerify = (args: string[]): Promise<Run> =>
  cosign(
    [
      ...args.slice(0, 1),
      '--certificate-identity',
      info.identity,
      '--certificate-oidc-issuer',
      info.issuerUrl,
      '--allow-http-registry',
      '--allow-insecure-registry',
      ...args.slice(1),
    ],
    { cwd, env: cosignEnv() },
  );

async function layerAnnotations(repository: string, digest: string, suffix: 'sig' | 'att') {
  const found = await client.findManifest(
    { registry: registry.host, repository },
    `${digest.replace(':', '-')}.${suffix}`,
  );
  const manifest = JSON.parse(found!.bytes.toString('utf8')) as { layers: { annotations: Record<string, string> }[] };
  return manifest.layers.map((l) => l.annotations);
}

describe('keyless image sign on the local stack (legacy layout, as cosign 2.5)', () => {
  it('the real cosign verifies it with --certificate-identity/--certificate-oidc-issuer; a wrong identity fails', async () => {
    const digest = await seed(registry.host, 'keyless/signed', 'v1');
    const image = `${registry.host}/keyless/signed:v1`;
    const run = expectOk(await keyless(['sign', '--trusted-root', trust('trustedRoot'), '-a', 'team=blue', image]));
    expect(run.stdout + run.stderr).not.toContain(info.token);
    expect(run.stderr).toContain('tlog entry created with index:');
    const [annotations] = await layerAnnotations('keyless/signed', digest, 'sig');
    expect(annotations!['dev.sigstore.cosign/certificate']).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(annotations!['dev.sigstore.cosign/chain']).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const rekorBundle = JSON.parse(annotations!['dev.sigstore.cosign/bundle']!) as {
      SignedEntryTimestamp: string;
      Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
    };
    expect(Object.keys(rekorBundle)).toEqual(['SignedEntryTimestamp', 'Payload']);
    expect(Object.keys(rekorBundle.Payload)).toEqual(['body', 'integratedTime', 'logIndex', 'logID']);
    const body = JSON.parse(Buffer.from(rekorBundle.Payload.body, 'base64').toString('utf8')) as { kind: string };
    expect(body.kind).toBe('hashedrekord');
    expect(annotations!['dev.sigstore.cosign/rfc3161timestamp']).toContain('SignedRFC3161Timestamp');

    const verified = expectOk(await cosignVerify(['verify', image]));
    const payloads = JSON.parse(verified.stdout) as {
      critical: { image: Record<string, string> };
      optional: Record<string, string>;
    }[];
    expect(payloads[0]!.critical.image['docker-manifest-digest']).toBe(digest);
    // cosign adds what it verified (Subject, Issuer, Bundle…) to the optional section it prints.
    expect(payloads[0]!.optional).toMatchObject({ team: 'blue', Subject: info.identity, Issuer: info.issuerUrl });
    const wrong = await cosign(
      [
        'verify',
        '--certificate-identity',
        'mallory@example.com',
        '--certificate-oidc-issuer',
        info.issuerUrl,
        '--allow-http-registry',
        image,
      ],
      { cwd, env: cosignEnv() },
    );
    expect(wrong.code).not.toBe(0);
  });

  it('keyless attest → the real cosign verify-attestation', async () => {
    const digest = await seed(registry.host, 'keyless/attested', 'v1');
    const image = `${registry.host}/keyless/attested:v1`;
    expectOk(await keyless(['attest', '--predicate', 'predicate.json', '--type', 'slsaprovenance', image]));
    const [annotations] = await layerAnnotations('keyless/attested', digest, 'att');
    const rekorBundle = JSON.parse(annotations!['dev.sigstore.cosign/bundle']!) as { Payload: { body: string } };
    expect(JSON.parse(Buffer.from(rekorBundle.Payload.body, 'base64').toString('utf8')).kind).toBe('dsse');
    expect(annotations!.predicateType).toBe('https://slsa.dev/provenance/v0.2');
    const verified = expectOk(await cosignVerify(['verify-attestation', '--type', 'slsaprovenance', image]));
    const envelope = JSON.parse(verified.stdout.trim().split('\n')[0]!) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as {
      subject: { digest: { sha256: string } }[];
    };
    expect(statement.subject[0]!.digest.sha256).toBe(digest.slice('sha256:'.length));
  });

  it('keyed sign and attest with --tlog-upload: cosign verifies with the key and the Rekor bundle', async () => {
    expectOk(await cosignkit(['generate-key-pair'], { cwd, env: { COSIGN_PASSWORD: PASSWORD } }));
    const digest = await seed(registry.host, 'keyed/logged', 'v1');
    const image = `${registry.host}/keyed/logged:v1`;
    const env = { COSIGN_PASSWORD: PASSWORD };
    expectOk(
      await cosignkit(['sign', '--key', 'cosign.key', '--tlog-upload', '--rekor-url', info.rekorUrl, image], {
        cwd,
        env,
      }),
    );
    expectOk(
      await cosignkit(
        [
          'attest',
          '--key',
          'cosign.key',
          '--tlog-upload',
          '--rekor-url',
          info.rekorUrl,
          '--predicate',
          'predicate.json',
          image,
        ],
        { cwd, env },
      ),
    );
    const [annotations] = await layerAnnotations('keyed/logged', digest, 'sig');
    expect(annotations!['dev.sigstore.cosign/certificate']).toBeUndefined();
    expect(annotations!['dev.sigstore.cosign/bundle']).toContain('SignedEntryTimestamp');
    // No --insecure-ignore-tlog: cosign checks the SET against the stack's Rekor key.
    expectOk(
      await cosign(['verify', '--key', 'cosign.pub', '--allow-http-registry', image], { cwd, env: cosignEnv() }),
    );
    expectOk(
      await cosign(['verify-attestation', '--key', 'cosign.pub', '--type', 'custom', '--allow-http-registry', image], {
        cwd,
        env: cosignEnv(),
      }),
    );
  });

  it('several images in one command: each signed, a missing one fails alone (exit 1, one line), a summary', async () => {
    const images = await Promise.all(
      ['a', 'b', 'c'].map(async (name) => {
        await seed(registry.host, `many/${name}`, 'v1');
        return `${registry.host}/many/${name}:v1`;
      }),
    );
    const all = expectOk(await keyless(['sign', '-j', '2', ...images]));
    expect(all.stderr).toContain('sign: signed 3 of 3');
    for (const image of images) expectOk(await cosignVerify(['verify', image]));
    const missing = `${registry.host}/many/absent:v1`;
    const mixed = await keyless(['sign', '--json', images[0]!, missing]);
    expect(mixed.code).toBe(1);
    const failing = mixed.stderr.split('\n').filter((l) => l.startsWith('cosignkit: '));
    expect(failing).toHaveLength(1);
    expect(failing[0]).toContain('many/absent');
    expect(mixed.stderr).toContain('sign: signed 1, failed 1 of 2');
    const data = JSON.parse(mixed.stdout) as { results: { image: string; status: string }[] };
    expect(data.results.map((r) => r.status)).toEqual(['ok', 'failed']);
  });

  it('attest with several images: each attested (the real cosign verifies each), a missing one fails alone', async () => {
    const images = await Promise.all(
      ['d', 'e'].map(async (name) => {
        await seed(registry.host, `many/${name}`, 'v1');
        return `${registry.host}/many/${name}:v1`;
      }),
    );
    const all = expectOk(await keyless(['attest', '--predicate', 'predicate.json', '-j', '2', ...images]));
    expect(all.stderr).toContain('attest: attested 2 of 2');
    for (const image of images) expectOk(await cosignVerify(['verify-attestation', '--type', 'custom', image]));
    const mixed = await keyless([
      'attest',
      '--json',
      '--predicate',
      'predicate.json',
      images[0]!,
      `${registry.host}/many/absent:v1`,
    ]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr.split('\n').filter((l) => l.startsWith('cosignkit: '))).toHaveLength(1);
    const data = JSON.parse(mixed.stdout) as { results: { status: string }[] };
    expect(data.results.map((r) => r.status)).toEqual(['ok', 'failed']);
  });

  it('Rekor down: exit 1, one line, nothing pushed', async () => {
    const digest = await seed(registry.host, 'keyless/unlogged', 'v1');
    const run = await keyless(['sign', '--rekor-url', 'http://127.0.0.1:9', `${registry.host}/keyless/unlogged:v1`]);
    expectFailure(run, 1, 'BACKEND_UNAVAILABLE');
    const tags = await client.listTags({ registry: registry.host, repository: 'keyless/unlogged' });
    expect(tags).not.toContain(`${digest.replace(':', '-')}.sig`);
  });

  it('a Rekor v2 signing config is refused before signing: the legacy layout needs a v1 entry', async () => {
    const digest = await seed(registry.host, 'keyless/v2', 'v1');
    const run = await cosignkit(
      ['sign', '--signing-config', trust('signingConfigRekorV2'), `${registry.host}/keyless/v2:v1`],
      { cwd, env: { SIGSTORE_ID_TOKEN: info.token } },
    );
    expectFailure(run, 1, 'NOT_SUPPORTED');
    const tags = await client.listTags({ registry: registry.host, repository: 'keyless/v2' });
    expect(tags).not.toContain(`${digest.replace(':', '-')}.sig`);
  });

  it('without a token and without a key: a one-line usage error', async () => {
    await seed(registry.host, 'keyless/none', 'v1');
    const run = await cosignkit(['sign', `${registry.host}/keyless/none:v1`], { cwd, env: {} });
    expectFailure(run, 1, 'USAGE');
  });
});

describe("keyless image sign and attest in cosign 3's bundle layout (--format bundle)", () => {
  const verifyArgs = (identity = info.identity) => [
    '--certificate-identity',
    identity,
    '--certificate-oidc-issuer',
    info.issuerUrl,
    '--trusted-root',
    trust('trustedRoot'),
  ];

  it('sign pushes a bundle referrer (no .sig tag); verify finds it by identity; a wrong identity exits 2', async () => {
    const digest = await seed(registry.host, 'keyless/bundled', 'v1');
    const image = `${registry.host}/keyless/bundled:v1`;
    const signed = expectOk(await keyless(['sign', '--json', '--format', 'bundle', '-a', 'team=blue', image]));
    const result = JSON.parse(signed.stdout) as { format: string; location: string; logIndex?: string };
    expect(result.format).toBe('bundle');
    expect(result.location).toMatch(new RegExp(`^${registry.host}/keyless/bundled@sha256:[0-9a-f]{64}$`));
    expect(result.logIndex).toBeDefined();
    const tags = await client.listTags({ registry: registry.host, repository: 'keyless/bundled' });
    expect(tags).not.toContain(`${digest.replace(':', '-')}.sig`);

    const verified = expectOk(await cosignkit(['--json', 'verify', ...verifyArgs(), image], { cwd }));
    const found = (JSON.parse(verified.stdout) as { found: { format: string; verified: boolean }[] }).found;
    expect(found).toEqual([expect.objectContaining({ format: 'bundle', verified: true })]);
    expectFailure(await cosignkit(['verify', ...verifyArgs('mallory@example.com'), image], { cwd }), 2);
    // A signature is not an attestation.
    expectFailure(await cosignkit(['verify-attestation', ...verifyArgs(), image], { cwd }), 2);
    // Recorded: cosign 2.5's `verify --new-bundle-format` does not look for cosign 3's signing-statement
    // referrers (the keyed bundle layout has the same limit); cosign 3 is what reads this layout.
    const theirs = await cosignVerify(['verify', '--new-bundle-format', '--trusted-root', trust('trustedRoot'), image]);
    expect(theirs.stderr).toContain('no signatures found');
  });

  it('attest pushes the envelope bundle as a referrer; the real cosign verify-attestation --new-bundle-format verifies it', async () => {
    const digest = await seed(registry.host, 'keyless/bundled-att', 'v1');
    const image = `${registry.host}/keyless/bundled-att:v1`;
    expectOk(
      await keyless([
        'attest',
        '--format',
        'bundle',
        '--predicate',
        'predicate.json',
        '--type',
        'slsaprovenance',
        image,
      ]),
    );
    const tags = await client.listTags({ registry: registry.host, repository: 'keyless/bundled-att' });
    expect(tags).not.toContain(`${digest.replace(':', '-')}.att`);
    expectOk(await cosignkit(['verify-attestation', ...verifyArgs(), '--type', 'slsaprovenance', image], { cwd }));
    const theirs = expectOk(
      await cosignVerify([
        'verify-attestation',
        '--new-bundle-format',
        '--trusted-root',
        trust('trustedRoot'),
        '--type',
        'slsaprovenance',
        image,
      ]),
    );
    const envelope = JSON.parse(theirs.stdout.trim().split('\n')[0]!) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as {
      subject: { digest: { sha256: string } }[];
    };
    expect(statement.subject[0]!.digest.sha256).toBe(digest.slice('sha256:'.length));
    expect(
      (
        await cosign(
          [
            'verify-attestation',
            '--new-bundle-format',
            '--trusted-root',
            trust('trustedRoot'),
            '--certificate-identity',
            'mallory@example.com',
            '--certificate-oidc-issuer',
            info.issuerUrl,
            '--type',
            'slsaprovenance',
            '--allow-http-registry',
            image,
          ],
          { cwd, env: cosignEnv() },
        )
      ).code,
    ).not.toBe(0);
  });

  it('a Rekor v2 signing config: the bundle carries the v2 entry and verifies', async () => {
    await seed(registry.host, 'keyless/bundled-v2', 'v1');
    const image = `${registry.host}/keyless/bundled-v2:v1`;
    const signed = expectOk(
      await cosignkit(
        ['--json', 'sign', '--signing-config', trust('signingConfigRekorV2'), '--format', 'bundle', image],
        {
          cwd,
          env: { SIGSTORE_ID_TOKEN: info.token },
        },
      ),
    );
    expect((JSON.parse(signed.stdout) as { format: string }).format).toBe('bundle');
    expectOk(await cosignkit(['verify', ...verifyArgs(), image], { cwd }));
  });
});
