import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CASES,
  FIXTURES as SIGSTORE_FIXTURES,
  ROOT_FILES,
  flipByte,
  withBrokenCertificates,
  type Case,
} from '../../sigstore/test/helpers.js';
import { cosign, cosignkit, requireCosign } from './helpers.js';

// The real cosign (2.5) and cosignkit give the same verdict on the real keyless bundles, offline: cosign
// gets --trusted-root and a HOME/TUF_ROOT in a temp dir, so it never reaches a TUF repository. Where cosign
// 2.5 cannot verify a bundle at all, the test records how it fails (so a newer cosign that can shows up).
let dir: string;
const fx = (name: string) => join(SIGSTORE_FIXTURES, name);
const isolated = () => ({ HOME: dir, TUF_ROOT: join(dir, 'tuf'), XDG_CACHE_HOME: join(dir, 'cache') });

beforeAll(() => {
  requireCosign();
  dir = mkdtempSync(join(tmpdir(), 'cosignkit-keyless-interop-'));
  // cosign 2.5 takes a TrustedRoot, not a ClientTrustConfig: give it the config's trustedRoot.
  writeFileSync(
    join(dir, 'tsa-root.json'),
    JSON.stringify(JSON.parse(readFileSync(fx('tsa-trust_config.json'), 'utf8')).trustedRoot),
  );
  writeFileSync(join(dir, 'flipped'), '');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rootFile = (name: Case['root']) =>
  name === 'tsa-trust-config' ? join(dir, 'tsa-root.json') : fx(ROOT_FILES[name]);

interface Variant {
  name: string;
  identity: (c: Case) => string[];
  artifact?: (c: Case) => string;
  root?: (c: Case) => string;
  expected: boolean;
}
const VARIANTS: Variant[] = [
  {
    name: 'as the README says',
    identity: (c) => ['--certificate-identity', c.identity, '--certificate-oidc-issuer', c.issuer],
    expected: true,
  },
  {
    name: 'a flipped artifact byte',
    identity: (c) => ['--certificate-identity', c.identity, '--certificate-oidc-issuer', c.issuer],
    artifact: (c) => {
      const path = join(dir, `${c.artifact}.flipped`);
      writeFileSync(path, flipByte(readFileSync(fx(c.artifact!))));
      return path;
    },
    expected: false,
  },
  {
    name: 'the wrong identity',
    identity: (c) => ['--certificate-identity', `x${c.identity}`, '--certificate-oidc-issuer', c.issuer],
    expected: false,
  },
  {
    name: 'the wrong issuer',
    identity: (c) => [
      '--certificate-identity',
      c.identity,
      '--certificate-oidc-issuer',
      'https://accounts.example.com',
    ],
    expected: false,
  },
  {
    name: 'substring regexps (unanchored: they match)',
    identity: (c) => [
      '--certificate-identity-regexp',
      c.identity.slice(4, 10),
      '--certificate-oidc-issuer-regexp',
      'com',
    ],
    expected: true,
  },
  {
    name: 'a regexp that matches nothing',
    identity: (c) => ['--certificate-identity-regexp', '^nobody$', '--certificate-oidc-issuer', c.issuer],
    expected: false,
  },
  {
    name: "the other instance's root",
    identity: (c) => ['--certificate-identity', c.identity, '--certificate-oidc-issuer', c.issuer],
    root: (c) => rootFile(c.otherRoot),
    expected: false,
  },
  {
    name: "the root certificates' self-signatures broken (a trust anchor is taken as given)",
    identity: (c) => ['--certificate-identity', c.identity, '--certificate-oidc-issuer', c.issuer],
    root: (c) => brokenRoot(c, (chain) => chain.length - 1, 'anchors'),
    expected: true,
  },
  {
    name: "the intermediate certificates' signatures broken",
    identity: (c) => ['--certificate-identity', c.identity, '--certificate-oidc-issuer', c.issuer],
    root: (c) => brokenRoot(c, (chain) => (chain.length > 1 ? 0 : -1), 'intermediates'),
    expected: false,
  },
];

/** The case's trusted root with one certificate of each CA's chain broken (withBrokenCertificates), as a file. */
function brokenRoot(c: Case, pick: (chain: unknown[]) => number, name: string): string {
  const path = join(dir, `${c.root}-broken-${name}.json`);
  writeFileSync(path, JSON.stringify(withBrokenCertificates(JSON.parse(readFileSync(rootFile(c.root), 'utf8')), pick)));
  return path;
}

const messageCases = CASES.filter((c) => !c.dsse && !c.bundle.startsWith('staging-rekor-v2'));

describe('cosign verify-blob and cosignkit verify-blob agree', () => {
  for (const c of messageCases) {
    for (const v of VARIANTS) {
      it(`${c.bundle}: ${v.name}`, async () => {
        const artifact = v.artifact ? v.artifact(c) : fx(c.artifact!);
        const root = v.root ? v.root(c) : rootFile(c.root);
        const common = ['--bundle', fx(c.bundle), ...v.identity(c), '--trusted-root', root, artifact];
        const theirs = await cosign(['verify-blob', '--new-bundle-format', ...common], { cwd: dir, env: isolated() });
        const ours = await cosignkit(['verify-blob', '--offline', ...common], { cwd: dir, env: isolated() });
        expect(theirs.code === 0, `cosign: ${theirs.stderr}`).toBe(v.expected);
        expect(ours.code, `cosignkit: ${ours.stderr}`).toBe(v.expected ? 0 : 2);
      });
    }
  }
});

describe('what cosign 2.5 cannot verify (recorded; cosignkit verifies each)', () => {
  it('Rekor v2 entries: "nil value in transaction log entry"', async () => {
    const c = CASES.find((x) => x.bundle.startsWith('staging-rekor-v2'))!;
    const common = [
      '--bundle',
      fx(c.bundle),
      '--certificate-identity',
      c.identity,
      '--certificate-oidc-issuer',
      c.issuer,
      '--trusted-root',
      rootFile(c.root),
      fx(c.artifact!),
    ];
    const theirs = await cosign(['verify-blob', '--new-bundle-format', ...common], { cwd: dir, env: isolated() });
    expect(theirs.code).not.toBe(0);
    expect(theirs.stderr).toContain('nil value in transaction log entry');
    expect((await cosignkit(['verify-blob', '--offline', ...common], { cwd: dir, env: isolated() })).code).toBe(0);
  });

  it('DSSE bundles without the artifact: verify-blob-attestation --check-claims=false still wants the subject digest', async () => {
    const c = CASES.find((x) => x.dsse)!;
    const common = [
      '--bundle',
      fx(c.bundle),
      '--certificate-identity',
      c.identity,
      '--certificate-oidc-issuer',
      c.issuer,
      '--trusted-root',
      rootFile(c.root),
      '--check-claims=false',
      '--type',
      'https://github.com/npm/attestation/tree/main/specs/publish/v0.1',
    ];
    const theirs = await cosign(['verify-blob-attestation', '--new-bundle-format', ...common], {
      cwd: dir,
      env: isolated(),
    });
    expect(theirs.code).not.toBe(0);
    expect(theirs.stderr).toContain('provided artifact digests does not match digests in statement');
    expect(
      (await cosignkit(['verify-blob-attestation', '--offline', ...common], { cwd: dir, env: isolated() })).code,
    ).toBe(0);
  });

  it('cosign\'s own legacy bundle with a trusted root: only with TUF ("--trusted-root only supported with --new-bundle-format")', async () => {
    const common = [
      '--bundle',
      fx('offline-rekor.txt.cosign-bundle.json'),
      '--certificate-identity',
      'william@yossarian.net',
      '--certificate-oidc-issuer',
      'https://github.com/login/oauth',
      '--trusted-root',
      fx('staging-trusted_root.json'),
      '--insecure-ignore-sct',
      fx('offline-rekor.txt'),
    ];
    const theirs = await cosign(['verify-blob', ...common], { cwd: dir, env: isolated() });
    expect(theirs.stderr).toContain('--trusted-root only supported with --new-bundle-format');
    expect((await cosignkit(['verify-blob', '--offline', ...common], { cwd: dir, env: isolated() })).code).toBe(0);
  });

  it('the TSA bundle with --use-signed-timestamps: both refuse under the shipped ClientTrustConfig (0 verified timestamps)', async () => {
    const c = CASES.find((x) => x.bundle.startsWith('tsa-bundle'))!;
    const common = [
      '--bundle',
      fx(c.bundle),
      '--certificate-identity',
      c.identity,
      '--certificate-oidc-issuer',
      c.issuer,
      '--trusted-root',
      rootFile(c.root),
      '--use-signed-timestamps',
      fx(c.artifact!),
    ];
    const theirs = await cosign(['verify-blob', '--new-bundle-format', ...common], { cwd: dir, env: isolated() });
    expect(theirs.stderr).toContain('threshold not met for verified signed timestamps: 0 < 1');
    const ours = await cosignkit(['verify-blob', '--offline', ...common], { cwd: dir, env: isolated() });
    expect(ours.code).toBe(2);
    expect(ours.stderr).toContain('--use-signed-timestamps');
  });
});
