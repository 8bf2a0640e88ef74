import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EMPTY_TRUSTED_ROOT,
  PASSWORD,
  cosign,
  cosignkit,
  expectFailure,
  requireCosign,
  tempHome,
  expectOk,
} from './helpers.js';

// attest-blob and verify-blob-attestation, interoperating both ways with the real cosign.
let home: ReturnType<typeof tempHome>;
let dir: string;
const env = { COSIGN_PASSWORD: PASSWORD };

const ok = expectOk;
const at = (args: string[]) => cosignkit(args, { cwd: dir, env });
const cs = (args: string[]) => cosign(args, { cwd: dir, env });

beforeAll(async () => {
  requireCosign();
  home = tempHome();
  dir = home.dir;
  writeFileSync(join(dir, 'artifact.txt'), 'the artifact\n');
  writeFileSync(join(dir, 'other.txt'), 'another file\n');
  writeFileSync(join(dir, 'trusted_root.json'), EMPTY_TRUSTED_ROOT);
  writeFileSync(
    join(dir, 'slsa.json'),
    '{"buildType":"https://example.com/build","builder":{"id":"https://example.com/ci"}}\n',
  );
  writeFileSync(join(dir, 'sbom.json'), '{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}\n');
  // Keys from the real cosign, read by cosignkit through @cosignkit/key-file.
  ok(await cs(['generate-key-pair']));
});
afterAll(() => home?.cleanup());

describe('cosign attest-blob → cosignkit verify-blob-attestation', () => {
  it("verifies cosign's bare envelope (--output-file)", async () => {
    ok(
      await cs([
        'attest-blob',
        '--key',
        'cosign.key',
        '--predicate',
        'slsa.json',
        '--type',
        'slsaprovenance',
        '--tlog-upload=false',
        '--output-file',
        'cs-env.json',
        'artifact.txt',
      ]),
    );
    const run = ok(
      await at([
        'verify-blob-attestation',
        '--key',
        'cosign.pub',
        '--type',
        'slsaprovenance',
        '--signature',
        'cs-env.json',
        'artifact.txt',
      ]),
    );
    expect(run.stdout).toBe('Verified OK\n');
  });

  it("verifies cosign's new-format bundle (--new-bundle-format --bundle)", async () => {
    ok(
      await cs([
        'attest-blob',
        '--key',
        'cosign.key',
        '--predicate',
        'sbom.json',
        '--type',
        'cyclonedx',
        '--tlog-upload=false',
        '--new-bundle-format',
        '--bundle',
        'cs-bundle.json',
        'artifact.txt',
      ]),
    );
    ok(
      await at([
        'verify-blob-attestation',
        '--key',
        'cosign.pub',
        '--type',
        'cyclonedx',
        '--new-bundle-format',
        '--trusted-root',
        'trusted_root.json',
        '--insecure-ignore-tlog',
        '--bundle',
        'cs-bundle.json',
        'artifact.txt',
      ]),
    );
  });

  it('fails (exit 2) on the wrong file, the wrong type, or the wrong key', async () => {
    const wrongFile = await at([
      'verify-blob-attestation',
      '--key',
      'cosign.pub',
      '--type',
      'slsaprovenance',
      '--signature',
      'cs-env.json',
      'other.txt',
    ]);
    expectFailure(wrongFile, 2, /no subject has the sha256 digest/);
    const wrongType = await at([
      'verify-blob-attestation',
      '--key',
      'cosign.pub',
      '--type',
      'spdx',
      '--signature',
      'cs-env.json',
      'artifact.txt',
    ]);
    expectFailure(wrongType, 2, /invalid predicate type/);
    const defaultType = await at([
      'verify-blob-attestation',
      '--key',
      'cosign.pub',
      '--signature',
      'cs-env.json',
      'artifact.txt',
    ]);
    expectFailure(defaultType, 2, /expected https:\/\/cosign.sigstore.dev\/attestation\/v1/);
    ok(await at(['generate-key-pair', '--output-key-prefix', 'other']));
    const wrongKey = await at([
      'verify-blob-attestation',
      '--key',
      'other.pub',
      '--type',
      'slsaprovenance',
      '--signature',
      'cs-env.json',
      'artifact.txt',
    ]);
    expectFailure(wrongKey, 2, /no signature in the envelope verifies/);
  });
});

describe('cosignkit attest-blob → cosign verify-blob-attestation', () => {
  it("writes a bare envelope shaped as cosign's, which cosign verifies", async () => {
    ok(
      await at([
        'attest-blob',
        '--key',
        'cosign.key',
        '--predicate',
        'slsa.json',
        '--type',
        'slsaprovenance',
        '--tlog-upload=false',
        '--output-file',
        'ck-env.json',
        'artifact.txt',
      ]),
    );
    const text = readFileSync(join(dir, 'ck-env.json'), 'utf8');
    const theirs = readFileSync(join(dir, 'cs-env.json'), 'utf8');
    const shape = (t: string) => t.replace(/"payload":"[^"]*"/, '"payload":"P"').replace(/"sig":"[^"]*"/, '"sig":"S"');
    expect(shape(text)).toBe(shape(theirs));
    ok(
      await cs([
        'verify-blob-attestation',
        '--key',
        'cosign.pub',
        '--insecure-ignore-tlog=true',
        '--type',
        'slsaprovenance',
        '--signature',
        'ck-env.json',
        'artifact.txt',
      ]),
    );
    // And cosign refuses it for another file: the subject is really checked.
    expect(
      (
        await cs([
          'verify-blob-attestation',
          '--key',
          'cosign.pub',
          '--insecure-ignore-tlog=true',
          '--type',
          'slsaprovenance',
          '--signature',
          'ck-env.json',
          'other.txt',
        ])
      ).code,
    ).not.toBe(0);
  });

  it("writes a v0.3 bundle shaped as cosign's, which cosign verifies", async () => {
    const run = ok(
      await at([
        'attest-blob',
        '--key',
        'cosign.key',
        '--predicate',
        'sbom.json',
        '--type',
        'cyclonedx',
        '--tlog-upload=false',
        '--bundle',
        'ck-bundle.json',
        'artifact.txt',
      ]),
    );
    expect(JSON.parse(run.stdout).payloadType).toBe('application/vnd.in-toto+json'); // the envelope, as cosign prints it
    const ours = JSON.parse(readFileSync(join(dir, 'ck-bundle.json'), 'utf8'));
    const theirs = JSON.parse(readFileSync(join(dir, 'cs-bundle.json'), 'utf8'));
    expect(ours.mediaType).toBe(theirs.mediaType);
    expect(ours.verificationMaterial).toEqual(theirs.verificationMaterial);
    expect(Object.keys(ours.dsseEnvelope)).toEqual(Object.keys(theirs.dsseEnvelope));
    expect(ours.dsseEnvelope.payload).toBe(theirs.dsseEnvelope.payload); // byte-identical statement
    ok(
      await cs([
        'verify-blob-attestation',
        '--key',
        'cosign.pub',
        '--insecure-ignore-tlog=true',
        '--new-bundle-format',
        '--trusted-root',
        'trusted_root.json',
        '--type',
        'cyclonedx',
        '--bundle',
        'ck-bundle.json',
        'artifact.txt',
      ]),
    );
  });

  it('custom predicates and in-toto Statement v1 are verified by cosign', async () => {
    writeFileSync(join(dir, 'note.txt'), 'approved by release manager\n');
    ok(
      await at([
        'attest-blob',
        '--key',
        'cosign.key',
        '--predicate',
        'note.txt',
        '--output-file',
        'ck-custom.json',
        'artifact.txt',
      ]),
    );
    ok(
      await cs([
        'verify-blob-attestation',
        '--key',
        'cosign.pub',
        '--insecure-ignore-tlog=true',
        '--signature',
        'ck-custom.json',
        'artifact.txt',
      ]),
    );
    ok(
      await at([
        'attest-blob',
        '--key',
        'cosign.key',
        '--predicate',
        'sbom.json',
        '--type',
        'https://example.com/sbom/v1',
        '--statement-version',
        'v1',
        '--output-file',
        'ck-v1.json',
        'artifact.txt',
      ]),
    );
    const statement = JSON.parse(
      Buffer.from(JSON.parse(readFileSync(join(dir, 'ck-v1.json'), 'utf8')).payload, 'base64').toString(),
    );
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(Object.keys(statement.subject[0].digest)).toEqual(['sha256', 'sha512']);
    ok(
      await cs([
        'verify-blob-attestation',
        '--key',
        'cosign.pub',
        '--insecure-ignore-tlog=true',
        '--type',
        'https://example.com/sbom/v1',
        '--signature',
        'ck-v1.json',
        'artifact.txt',
      ]),
    );
    ok(
      await at([
        'verify-blob-attestation',
        '--key',
        'cosign.pub',
        '--type',
        'https://example.com/sbom/v1',
        '--signature',
        'ck-v1.json',
        'artifact.txt',
      ]),
    );
  });

  it.each(['ecdsa-p384-sha384', 'ed25519'])("%s keys: cosign verifies cosignkit's attestation", async (algorithm) => {
    ok(await at(['key', 'generate', '--key', `${algorithm}.key`, '--algorithm', algorithm]));
    ok(
      await at([
        'attest-blob',
        '--key',
        `${algorithm}.key`,
        '--predicate',
        'sbom.json',
        '--type',
        'cyclonedx',
        '--output-file',
        `${algorithm}-env.json`,
        'artifact.txt',
      ]),
    );
    ok(
      await at([
        'verify-blob-attestation',
        '--key',
        `${algorithm}.pub`,
        '--type',
        'cyclonedx',
        '--signature',
        `${algorithm}-env.json`,
        'artifact.txt',
      ]),
    );
    ok(
      await cs([
        'verify-blob-attestation',
        '--key',
        `${algorithm}.pub`,
        '--insecure-ignore-tlog=true',
        '--type',
        'cyclonedx',
        '--signature',
        `${algorithm}-env.json`,
        'artifact.txt',
      ]),
    );
  });

  it("cosign's legacy attestation bundle, both ways (--new-bundle-format=false)", async () => {
    ok(
      await cs([
        'attest-blob',
        '--key',
        'cosign.key',
        '--predicate',
        'sbom.json',
        '--type',
        'cyclonedx',
        '--tlog-upload=false',
        '--bundle',
        'cs-legacy.json',
        'artifact.txt',
      ]),
    );
    ok(
      await at([
        'verify-blob-attestation',
        '--key',
        'cosign.pub',
        '--type',
        'cyclonedx',
        '--bundle',
        'cs-legacy.json',
        'artifact.txt',
      ]),
    );
    ok(
      await at([
        'attest-blob',
        '--key',
        'cosign.key',
        '--predicate',
        'sbom.json',
        '--type',
        'cyclonedx',
        '--new-bundle-format=false',
        '--bundle',
        'ck-legacy.json',
        'artifact.txt',
      ]),
    );
    const ours = JSON.parse(readFileSync(join(dir, 'ck-legacy.json'), 'utf8'));
    const theirs = JSON.parse(readFileSync(join(dir, 'cs-legacy.json'), 'utf8'));
    expect(Object.keys(ours)).toEqual(Object.keys(theirs));
    expect(ours.cert).toBe(theirs.cert);
    ok(
      await cs([
        'verify-blob-attestation',
        '--key',
        'cosign.pub',
        '--insecure-ignore-tlog=true',
        '--type',
        'cyclonedx',
        '--bundle',
        'ck-legacy.json',
        'artifact.txt',
      ]),
    );
  });

  it('writes nothing and exits 1 on a bad predicate or type', async () => {
    writeFileSync(join(dir, 'bad.json'), '{not json');
    expectFailure(
      await at([
        'attest-blob',
        '--key',
        'cosign.key',
        '--predicate',
        'bad.json',
        '--type',
        'cyclonedx',
        '--output-file',
        'never.json',
        'artifact.txt',
      ]),
      1,
      'USAGE',
    );
    expectFailure(
      await at([
        'attest-blob',
        '--key',
        'cosign.key',
        '--predicate',
        'slsa.json',
        '--type',
        'no such type',
        '--output-file',
        'never.json',
        'artifact.txt',
      ]),
      1,
      'USAGE',
    );
    expect(() => readFileSync(join(dir, 'never.json'))).toThrow();
  });

  it('exits 3 with one line on a malformed envelope or the wrong payloadType', async () => {
    writeFileSync(join(dir, 'garbage.json'), 'garbage');
    expectFailure(
      await at(['verify-blob-attestation', '--key', 'cosign.pub', '--signature', 'garbage.json', 'artifact.txt']),
      3,
      'ENVELOPE_MALFORMED',
    );
    writeFileSync(
      join(dir, 'plain.json'),
      JSON.stringify({ payloadType: 'text/plain', payload: 'aGk=', signatures: [{ sig: 'AQID' }] }),
    );
    expectFailure(
      await at(['verify-blob-attestation', '--key', 'cosign.pub', '--signature', 'plain.json', 'artifact.txt']),
      3,
      /not an in-toto attestation/,
    );
    writeFileSync(
      join(dir, 'sig-bundle.json'),
      JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', messageSignature: {} }),
    );
    expectFailure(
      await at(['verify-blob-attestation', '--key', 'cosign.pub', '--bundle', 'sig-bundle.json', 'artifact.txt']),
      3,
      'BUNDLE_MALFORMED',
    );
  });
});
