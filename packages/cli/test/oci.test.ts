import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cosign,
  cosignkit,
  expectFailure,
  expectNoStackNoSecret,
  PASSWORD,
  requireCosign,
  type Run,
} from './helpers.js';
import { sha256Digest, signatureTag, simpleSigningPayload } from '@cosignkit/oci';
import { ociWorkspace, RegistryClient, seed, startRegistry, type RunningRegistry } from './oci-setup.js';

let registry: RunningRegistry;
let ws: { dir: string; cleanup: () => void };
const env = { COSIGN_PASSWORD: PASSWORD };
const run = (args: string[]): Promise<Run> => cosignkit(args, { cwd: ws.dir, env });
const runCosign = (args: string[]): Promise<Run> => cosign(args, { cwd: ws.dir, env });
const client = new RegistryClient({ credentials: async () => undefined });

beforeAll(async () => {
  requireCosign();
  [registry, ws] = await Promise.all([startRegistry(), ociWorkspace()]);
});
afterAll(async () => {
  await registry?.stop();
  ws?.cleanup();
});

function ok(r: Run): Run {
  expect(r.code, `exit code; stderr: ${r.stderr}`).toBe(0);
  expectNoStackNoSecret(r);
  return r;
}

describe('interop with the real cosign on one registry (legacy layout)', () => {
  it('cosign verify accepts what cosignkit signed, and signing by tag signs the digest', async () => {
    const digest = await seed(registry.host, 'interop/signed', 'v1');
    const signed = ok(
      await run([
        'sign',
        '--engine',
        'native',
        '--key',
        'cosign.key',
        '--format',
        'legacy',
        '-a',
        'team=blue',
        `${registry.host}/interop/signed:v1`,
      ]),
    );
    expect(signed.stderr).toContain(`@${digest}`);
    const tags = await client.listTags({ registry: registry.host, repository: 'interop/signed' });
    expect(tags).toContain(`${digest.replace(':', '-')}.sig`);
    const verified = ok(
      await runCosign([
        'verify',
        '--key',
        'cosign.pub',
        '--insecure-ignore-tlog',
        `${registry.host}/interop/signed:v1`,
      ]),
    );
    const payloads = JSON.parse(verified.stdout) as {
      critical: { image: Record<string, string> };
      optional: Record<string, string>;
    }[];
    expect(payloads).toHaveLength(1);
    expect(payloads[0]!.critical.image['docker-manifest-digest']).toBe(digest);
    expect(payloads[0]!.optional).toEqual({ team: 'blue' });
  });

  it('cosign verify-attestation accepts what cosignkit attested', async () => {
    await seed(registry.host, 'interop/attested', 'v1');
    const image = `${registry.host}/interop/attested:v1`;
    ok(
      await run([
        'attest',
        '--engine',
        'native',
        '--key',
        'cosign.key',
        '--format',
        'legacy',
        '--predicate',
        'predicate.json',
        '--type',
        'slsaprovenance',
        image,
      ]),
    );
    ok(
      await runCosign([
        'verify-attestation',
        '--key',
        'cosign.pub',
        '--insecure-ignore-tlog',
        '--type',
        'slsaprovenance',
        image,
      ]),
    );
    // The type filter is real: another type finds nothing.
    const other = await runCosign([
      'verify-attestation',
      '--key',
      'cosign.pub',
      '--insecure-ignore-tlog',
      '--type',
      'spdxjson',
      image,
    ]);
    expect(other.code).not.toBe(0);
  });

  it('cosignkit verifies what cosign sign and cosign attest pushed', async () => {
    const digest = await seed(registry.host, 'interop/by-cosign', 'v1');
    const image = `${registry.host}/interop/by-cosign:v1`;
    ok(
      await runCosign([
        'sign',
        '--key',
        'cosign.key',
        '--tlog-upload=false',
        '--yes',
        `${registry.host}/interop/by-cosign@${digest}`,
      ]),
    );
    ok(
      await runCosign([
        'attest',
        '--key',
        'cosign.key',
        '--tlog-upload=false',
        '--yes',
        '--predicate',
        'predicate.json',
        '--type',
        'https://example.com/t/v1',
        image,
      ]),
    );
    const verified = ok(await run(['--json', 'verify', '--engine', 'native', '--key', 'cosign.pub', image]));
    const data = JSON.parse(verified.stdout) as { verified: boolean; found: { format: string; verified: boolean }[] };
    expect(data.verified).toBe(true);
    expect(data.found).toEqual([expect.objectContaining({ format: 'legacy', verified: true })]);
    // cosign's payload is byte for byte the one verification rebuilds, so its layer's blob is not fetched.
    const repo = { registry: registry.host, repository: 'interop/by-cosign' };
    const sigImage = JSON.parse(
      (await client.getManifest(repo, signatureTag(digest, 'sig'))).bytes.toString('utf8'),
    ) as {
      layers: { digest: string; size: number }[];
    };
    const rebuilt = simpleSigningPayload(`${registry.host}/interop/by-cosign`, digest);
    expect(sigImage.layers).toEqual([expect.objectContaining({ digest: sha256Digest(rebuilt), size: rebuilt.length })]);
    ok(
      await run([
        'verify-attestation',
        '--engine',
        'native',
        '--key',
        'cosign.pub',
        '--type',
        'https://example.com/t/v1',
        image,
      ]),
    );
    expectFailure(
      await run(['verify-attestation', '--engine', 'native', '--key', 'cosign.pub', '--type', 'spdx', image]),
      2,
      'VERIFICATION_FAILED',
    );
  });
});

describe('Sigstore-bundle referrers (OCI 1.1, fallback index on distribution 2.8)', () => {
  it('cosign verify-attestation --new-bundle-format accepts a cosignkit bundle attestation, and the reverse', async () => {
    await seed(registry.host, 'bundle/att', 'v1');
    const image = `${registry.host}/bundle/att:v1`;
    ok(
      await run([
        'attest',
        '--engine',
        'native',
        '--key',
        'cosign.key',
        '--format',
        'bundle',
        '--predicate',
        'predicate.json',
        '--type',
        'https://example.com/ours/v1',
        image,
      ]),
    );
    ok(
      await runCosign([
        'verify-attestation',
        '--key',
        'cosign.pub',
        '--insecure-ignore-tlog',
        '--new-bundle-format',
        '--trusted-root',
        'trusted_root.json',
        '--type',
        'https://example.com/ours/v1',
        image,
      ]),
    );
    ok(
      await runCosign([
        'attest',
        '--key',
        'cosign.key',
        '--tlog-upload=false',
        '--yes',
        '--new-bundle-format',
        '--predicate',
        'predicate.json',
        '--type',
        'https://example.com/theirs/v1',
        image,
      ]),
    );
    ok(
      await run([
        'verify-attestation',
        '--engine',
        'native',
        '--key',
        'cosign.pub',
        '--type',
        'https://example.com/theirs/v1',
        image,
      ]),
    );
    ok(
      await run([
        'verify-attestation',
        '--engine',
        'native',
        '--key',
        'cosign.pub',
        '--type',
        'https://example.com/ours/v1',
        image,
      ]),
    );
  });

  it('signs natively into a bundle referrer by default and verifies it; a wrong key fails with exit 2', async () => {
    const digest = await seed(registry.host, 'bundle/sig', 'v1');
    const image = `${registry.host}/bundle/sig:v1`;
    const signed = ok(await run(['--json', 'sign', '--engine', 'native', '--key', 'cosign.key', image]));
    // One digest shape across results: { algorithm, hex }.
    expect(JSON.parse(signed.stdout)).toMatchObject({
      format: 'bundle',
      digest: { algorithm: 'sha256', hex: digest.slice('sha256:'.length) },
    });
    const { index, fallback } = await client.referrers({ registry: registry.host, repository: 'bundle/sig' }, digest);
    expect(fallback).toBe(true);
    expect(index.manifests).toEqual([
      expect.objectContaining({ artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }),
    ]);
    ok(await run(['verify', '--engine', 'native', '--key', 'cosign.pub', image]));
    await cosign(['generate-key-pair', '--output-key-prefix', 'other'], { cwd: ws.dir, env });
    expectFailure(await run(['verify', '--engine', 'native', '--key', 'other.pub', image]), 2, 'VERIFICATION_FAILED');
  });
});

describe('tags, digests and concurrency', () => {
  it('verifying after the tag moved fails with exit 2; the old digest still verifies', async () => {
    const first = await seed(registry.host, 'moving/app', 'v1');
    ok(
      await run([
        'sign',
        '--engine',
        'native',
        '--key',
        'cosign.key',
        '--format',
        'legacy',
        `${registry.host}/moving/app:v1`,
      ]),
    );
    ok(await run(['verify', '--engine', 'native', '--key', 'cosign.pub', `${registry.host}/moving/app:v1`]));
    await seed(registry.host, 'moving/app', 'v1');
    const moved = await run(['verify', '--engine', 'native', '--key', 'cosign.pub', `${registry.host}/moving/app:v1`]);
    expectFailure(moved, 2, /no signatures found .* \[VERIFICATION_FAILED\]/);
    ok(await run(['verify', '--engine', 'native', '--key', 'cosign.pub', `${registry.host}/moving/app@${first}`]));
  });

  it.each(['legacy', 'bundle'])(
    '8 concurrent cosignkit sign processes leave 8 verifiable signatures (%s)',
    async (format) => {
      const image = `${registry.host}/concurrent/${format}:v1`;
      await seed(registry.host, `concurrent/${format}`, 'v1');
      // Distinct annotations make 8 distinct signatures (the file key signs deterministically, RFC 6979).
      const runs = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          run(['sign', '--engine', 'native', '--key', 'cosign.key', '--format', format, '-a', `run=${i}`, image]),
        ),
      );
      for (const r of runs) ok(r);
      const verified = ok(await run(['--json', 'verify', '--engine', 'native', '--key', 'cosign.pub', image]));
      const data = JSON.parse(verified.stdout) as { found: { verified: boolean }[] };
      expect(data.found.filter((f) => f.verified)).toHaveLength(8);
      if (format === 'legacy') {
        const byCosign = ok(await runCosign(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', image]));
        expect(JSON.parse(byCosign.stdout)).toHaveLength(8);
      }
    },
    120_000,
  );
});

describe('the cosign engine', () => {
  it('signs and attests through the real cosign (legacy by default) and verifies through it', async () => {
    await seed(registry.host, 'engine/cosign', 'v1');
    const image = `${registry.host}/engine/cosign:v1`;
    const signed = ok(await run(['--json', 'sign', '--engine', 'cosign', '--key', 'cosign.key', image]));
    expect(JSON.parse(signed.stdout)).toMatchObject({ engine: 'cosign', format: 'legacy' });
    ok(
      await run([
        'attest',
        '--engine',
        'cosign',
        '--key',
        'cosign.key',
        '--predicate',
        'predicate.json',
        '--type',
        'spdxjson',
        image,
      ]),
    );
    ok(await run(['verify', '--engine', 'native', '--key', 'cosign.pub', image]));
    const viaCosign = ok(await run(['verify', '--engine', 'cosign', '--key', 'cosign.pub', image]));
    expect(viaCosign.stderr).toContain('engine: cosign');
    ok(await run(['verify-attestation', '--engine', 'cosign', '--key', 'cosign.pub', '--type', 'spdxjson', image]));
    expectFailure(
      await run(['sign', '--engine', 'cosign', '--key', 'cosign.key', '--format', 'bundle', image]),
      1,
      'NOT_SUPPORTED',
    );
  });
});

describe('the default engine (auto)', () => {
  it('signs through cosign in its legacy layout and verifies natively, reading both layouts', async () => {
    await seed(registry.host, 'engine/auto', 'v1');
    const image = `${registry.host}/engine/auto:v1`;
    const signed = ok(await run(['--json', 'sign', '--key', 'cosign.key', image]));
    expect(JSON.parse(signed.stdout)).toMatchObject({ engine: 'cosign', format: 'legacy' });
    ok(await run(['sign', '--engine', 'native', '--key', 'cosign.key', image]));
    const verified = ok(await run(['--json', 'verify', '--key', 'cosign.pub', image]));
    const data = JSON.parse(verified.stdout) as { engine: string; found: { format: string; verified: boolean }[] };
    expect(data.engine).toBe('native');
    expect(data.found.map((f) => [f.format, f.verified])).toEqual([
      ['legacy', true],
      ['bundle', true],
    ]);
  });
});

describe('download, tree, clean', () => {
  it('lists, prints and removes what is attached', async () => {
    await seed(registry.host, 'attached/app', 'v1');
    const image = `${registry.host}/attached/app:v1`;
    ok(await run(['sign', '--engine', 'native', '--key', 'cosign.key', '--format', 'legacy', image]));
    ok(await run(['sign', '--engine', 'native', '--key', 'cosign.key', '--format', 'bundle', image]));
    ok(
      await run([
        'attest',
        '--engine',
        'native',
        '--key',
        'cosign.key',
        '--format',
        'legacy',
        '--predicate',
        'predicate.json',
        image,
      ]),
    );
    const tree = ok(await run(['tree', image]));
    expect(tree.stdout).toMatch(/Signatures for an image tag: .*\.sig/);
    expect(tree.stdout).toMatch(/Attestations for an image tag: .*\.att/);
    expect(tree.stdout).toMatch(/Signatures \(Sigstore bundle referrer\)/);
    const sigs = ok(await run(['download', 'signature', image]))
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(sigs).toHaveLength(2);
    expect(sigs[0]).toHaveProperty('Base64Signature');
    expect(sigs[1]).toHaveProperty('dsseEnvelope');
    const atts = ok(await run(['download', 'attestation', image]))
      .stdout.trim()
      .split('\n');
    expect(JSON.parse(atts[0]!)).toHaveProperty('payloadType', 'application/vnd.in-toto+json');
    ok(await run(['clean', '--type', 'signature', image]));
    expect(ok(await run(['tree', image])).stdout).not.toMatch(/Signatures/);
    expectFailure(await run(['verify', '--engine', 'native', '--key', 'cosign.pub', image]), 2, 'VERIFICATION_FAILED');
    ok(await run(['verify-attestation', '--engine', 'native', '--key', 'cosign.pub', image]));
    ok(await run(['clean', image]));
    expect(ok(await run(['tree', image])).stdout).toContain('No Supply Chain Security Related Artifacts');
  });
});
