import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CASES,
  FIXTURES as SIGSTORE_FIXTURES,
  ROOT_FILES,
  flipByte,
  flipPayloadByte,
  relogAt,
  withoutTlog,
  type Case,
} from '../../sigstore/test/helpers.js';
import { cosignkit, expectFailure as expectOneLineFailure, expectOk, type Run } from './helpers.js';

/** Warnings (an unverifiable extra timestamp) are diagnostics on their own lines; the error is still one line. */
function expectFailure(run: Run, exitCode: number, code?: string | RegExp): void {
  const stderr = run.stderr
    .split('\n')
    .filter((l) => !l.startsWith('cosignkit: warning: '))
    .join('\n');
  expectOneLineFailure({ ...run, stderr }, exitCode, code);
}

// Keyless verification through the real CLI, offline, over every bundle of interop/public-good/ (copied to
// packages/sigstore/test/fixtures) with the identity, issuer and root its README gives, and the negatives
// it lists, each derived here and each exit 2.
let dir: string;
const env = { XDG_CACHE_HOME: '' }; // set in beforeAll: an empty cache, so only the given or embedded root is used
const NPM_PREDICATE = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1';
const fx = (name: string) => join(SIGSTORE_FIXTURES, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cosignkit-keyless-'));
  env.XDG_CACHE_HOME = join(dir, 'cache');
  const config = JSON.parse(readFileSync(fx('tsa-trust_config.json'), 'utf8'));
  writeFileSync(join(dir, 'tsa-root.json'), JSON.stringify(config.trustedRoot));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Variant {
  bundle?: string;
  artifact?: string;
  identity?: string[];
  root?: string;
}

/** The command line that verifies a case: verify-blob for message signatures, verify-dsse for DSSE. */
function argsFor(c: Case, v: Variant = {}): string[] {
  const bundle = v.bundle ?? fx(c.bundle);
  const root = ['--trusted-root', v.root ?? fx(ROOT_FILES[c.root]), '--offline'];
  if (c.dsse) {
    const identity = v.identity ?? ['--sigstore-identity', c.identity, '--sigstore-issuer', c.issuer];
    return ['verify-dsse', '--sigstore-bundle', bundle, ...identity, ...root];
  }
  const identity = v.identity ?? ['--certificate-identity', c.identity, '--certificate-oidc-issuer', c.issuer];
  return ['verify-blob', '--bundle', bundle, ...identity, ...root, v.artifact ?? fx(c.artifact!)];
}

const run = (args: string[]) => cosignkit(args, { cwd: dir, env });
const write = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('every public-good bundle verifies offline through the CLI', () => {
  for (const c of CASES) {
    it(c.bundle, async () => {
      const result = expectOk(await run([...argsFor(c), '--json']));
      const data = JSON.parse(result.stdout);
      expect(data.verified).toBe(true);
      expect(data.signatures[0].certificate.subjectAlternativeNames).toContain(c.identity);
      expect(data.signatures[0].tlogEntries[0].logIndex).toBeGreaterThan(0);
      expect(data.trustedRoot.kind).toBe('file');
    });
  }

  it('with the embedded roots (no --trusted-root): --offline names the root it used', async () => {
    const c = CASES.find((x) => x.bundle === 'bundle_v3_github.whl.sigstore')!;
    const args = argsFor(c).filter((a, i, all) => a !== '--trusted-root' && all[i - 1] !== '--trusted-root');
    const ok = expectOk(await run(args));
    expect(ok.stdout).toBe('Verified OK\n');
    expect(ok.stderr).toContain('trusted root: embedded public-good trusted root (@sigstore/tuf seeds.json)');
    const staging = CASES.find((x) => x.bundle === 'staging-rekor-v2.txt.sigstore.json')!;
    const stagingArgs = argsFor(staging).filter(
      (a, i, all) => a !== '--trusted-root' && all[i - 1] !== '--trusted-root',
    );
    expect(expectOk(await run([...stagingArgs, '--staging'])).stderr).toContain('embedded staging trusted root');
  });

  it('verify-blob takes sha256:<hex> instead of the file', async () => {
    const c = CASES.find((x) => x.bundle === 'bundle_v3.txt.sigstore')!;
    const { createHash } = await import('node:crypto');
    const digest = createHash('sha256')
      .update(readFileSync(fx(c.artifact!)))
      .digest('hex');
    expectOk(await run(argsFor(c, { artifact: `sha256:${digest}` })));
    expectFailure(
      await run(argsFor(c, { artifact: `sha256:${'0'.repeat(64)}` })),
      2,
      /messageDigest .* is not the artifact's/,
    );
  });

  it('verify-blob-attestation --check-claims=false verifies the DSSE bundles without the artifact', async () => {
    for (const c of CASES.filter((x) => x.dsse)) {
      expectOk(
        await run([
          'verify-blob-attestation',
          '--bundle',
          fx(c.bundle),
          '--certificate-identity',
          c.identity,
          '--certificate-oidc-issuer',
          c.issuer,
          '--trusted-root',
          fx(ROOT_FILES[c.root]),
          '--check-claims=false',
          '--type',
          NPM_PREDICATE,
        ]),
      );
    }
    const c = CASES.find((x) => x.dsse)!;
    expectFailure(
      await run([
        'verify-blob-attestation',
        '--bundle',
        fx(c.bundle),
        '--certificate-identity',
        c.identity,
        '--certificate-oidc-issuer',
        c.issuer,
        '--trusted-root',
        fx(ROOT_FILES[c.root]),
        '--check-claims=false',
      ]),
      2,
      /invalid predicate type, expected https:\/\/cosign.sigstore.dev\/attestation\/v1/,
    );
    // with claims checked, a file that is not the subject fails
    expectFailure(
      await run([
        'verify-blob-attestation',
        '--bundle',
        fx(c.bundle),
        '--certificate-identity',
        c.identity,
        '--certificate-oidc-issuer',
        c.issuer,
        '--trusted-root',
        fx(ROOT_FILES[c.root]),
        '--type',
        NPM_PREDICATE,
        fx('statement.json'),
      ]),
      2,
      /no in-toto subject has the artifact's digest/,
    );
  });

  it('verify-dsse --sigstore-bundle applies the statement policy too', async () => {
    const c = CASES.find((x) => x.dsse)!;
    expectOk(
      await run([
        ...argsFor(c),
        '--require-predicate-type',
        NPM_PREDICATE,
        '--require-subject',
        'pkg:npm/sigstore@1.0.0',
      ]),
    );
    expectFailure(await run([...argsFor(c), '--require-subject', 'pkg:npm/other@1.0.0']), 2, /unmet require-subject/);
  });
});

describe('negatives: each fails with exit 2 and one line naming what did not match', () => {
  for (const c of CASES) {
    describe(c.bundle, () => {
      it(c.dsse ? 'a flipped payload byte' : 'a flipped artifact byte', async () => {
        const args = c.dsse
          ? argsFor(c, {
              bundle: write(
                `${c.bundle}.flipped`,
                JSON.stringify(flipPayloadByte(JSON.parse(readFileSync(fx(c.bundle), 'utf8')))),
              ),
            })
          : argsFor(c, { artifact: write(`${c.artifact}.flipped`, flipByte(readFileSync(fx(c.artifact!)))) });
        expectFailure(await run(args), 2, 'VERIFICATION_FAILED');
      });
      it('the wrong identity, the wrong issuer, a regexp that matches nothing', async () => {
        const identityFlag = c.dsse ? '--sigstore-identity' : '--certificate-identity';
        const issuerFlag = c.dsse ? '--sigstore-issuer' : '--certificate-oidc-issuer';
        expectFailure(
          await run(argsFor(c, { identity: [identityFlag, `not-${c.identity}`, issuerFlag, c.issuer] })),
          2,
          /--certificate-identity: expected "not-/,
        );
        expectFailure(
          await run(argsFor(c, { identity: [identityFlag, c.identity, issuerFlag, 'https://accounts.example.com'] })),
          2,
          /--certificate-oidc-issuer: expected "https:\/\/accounts.example.com"/,
        );
        expectFailure(
          await run(
            argsFor(c, { identity: ['--certificate-identity-regexp', '^nobody@example\\.com$', issuerFlag, c.issuer] }),
          ),
          2,
          /--certificate-identity-regexp: "\^nobody@example\\\\.com\$" matches none of/,
        );
      });
      it("another instance's root, and the tlog entry removed", async () => {
        expectFailure(await run(argsFor(c, { root: fx(ROOT_FILES[c.otherRoot]) })), 2, 'VERIFICATION_FAILED');
        const stripped = write(
          `${c.bundle}.no-tlog`,
          JSON.stringify(withoutTlog(JSON.parse(readFileSync(fx(c.bundle), 'utf8')))),
        );
        expectFailure(await run(argsFor(c, { bundle: stripped })), 2, /TLOG_ERROR|TIMESTAMP_ERROR/);
      });
    });
  }

  it('a certificate outside its validity at the integrated time (the bundle re-logged; the control verifies)', async () => {
    const c = CASES.find((x) => x.bundle === 'bundle_v3_github.whl.sigstore')!;
    const original = JSON.parse(readFileSync(fx(c.bundle), 'utf8'));
    const cert = new X509Certificate(
      Buffer.from(original.verificationMaterial.x509CertificateChain.certificates[0].rawBytes, 'base64'),
    );
    const at = (time: number, name: string) => {
      const { bundle, root } = relogAt(original, JSON.parse(readFileSync(fx(ROOT_FILES[c.root]), 'utf8')), time);
      return argsFor(c, {
        bundle: write(`${name}.bundle`, JSON.stringify(bundle)),
        root: write(`${name}.root`, JSON.stringify(root)),
      });
    };
    expectOk(await run(at(Number(original.verificationMaterial.tlogEntries[0].integratedTime), 'control')));
    expectFailure(
      await run(at(Date.parse(cert.validTo) / 1000 + 60, 'late')),
      2,
      /certificate: valid .* not at .* \[CERTIFICATE_ERROR\]/,
    );
  });

  it('a malformed bundle exits 3, a missing policy exits 1 (USAGE)', async () => {
    const c = CASES.find((x) => !x.dsse)!;
    expectFailure(
      await run(
        argsFor(c, { bundle: write('garbage.json', '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}') }),
      ),
      3,
      'BUNDLE_MALFORMED',
    );
    expectFailure(await run(argsFor(c, { bundle: write('not-json.json', 'nope') })), 3, 'BUNDLE_MALFORMED');
    expectFailure(
      await run(argsFor(c, { identity: ['--certificate-oidc-issuer', c.issuer] })),
      1,
      /needs --certificate-identity or --certificate-identity-regexp/,
    );
  });
});
