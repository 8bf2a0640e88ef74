import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DevStack, STACK_FILES, type StackInfo } from '@cosignkit/dev-stack';
import { compileIdentityPolicy, loadTrustedRoot, verifyBundleFile } from '@cosignkit/sigstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosignkit, cosignVerifiesKeyless, expectOk, requireCosign, tempHome } from './helpers.js';

// Keyless batch signing (issue 16 with issue 14) on the dev stack: @sigstore/mock's Fulcio, Rekor and TSA
// served over real HTTP on loopback in this process, so the test can count the certificates Fulcio issued.
let stack: DevStack;
let info: StackInfo;
const home = tempHome();
const cwd = home.dir;
const trust = (name: keyof typeof STACK_FILES) => join(cwd, 'stack', STACK_FILES[name]);
const COUNT = 200;

beforeAll(async () => {
  requireCosign();
  stack = await DevStack.start();
  info = await stack.writeFiles(join(cwd, 'stack'));
  mkdirSync(join(cwd, 'files'));
  for (let i = 0; i < COUNT; i++) writeFileSync(join(cwd, 'files', `f${i}.txt`), `file ${i}\n`.repeat(1 + (i % 7)));
});

afterAll(async () => {
  await stack?.close();
  home.cleanup();
});

describe('keyless sign-blob with many files', () => {
  it(`signs ${COUNT} files with ONE Fulcio certificate, a Rekor entry each; verify-blob checks them all keyless and finds a tampered one; cosign verifies 5`, async () => {
    const before = stack.fulcio.certificatesIssued;
    const started = Date.now();
    const run = expectOk(
      await cosignkit(
        [
          'sign-blob',
          '--signing-config',
          trust('signingConfig'),
          '--trusted-root',
          trust('trustedRoot'),
          '-j',
          '16',
          '-r',
          'files',
        ],
        { cwd, env: { SIGSTORE_ID_TOKEN: info.token } },
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    expect(run.stderr).toContain(`sign-blob: signed ${COUNT} of ${COUNT}`);
    expect(run.stderr).not.toContain(info.token);
    expect(stack.fulcio.certificatesIssued - before).toBe(1);
    const certificates = new Set<string>();
    const logIndexes = new Set<string>();
    for (let i = 0; i < COUNT; i++) {
      const bundle = JSON.parse(readFileSync(join(cwd, 'files', `f${i}.txt.sigstore.json`), 'utf8')) as {
        verificationMaterial: { certificate: { rawBytes: string }; tlogEntries: { logIndex: string }[] };
      };
      certificates.add(bundle.verificationMaterial.certificate.rawBytes);
      logIndexes.add(bundle.verificationMaterial.tlogEntries[0]!.logIndex);
    }
    expect(certificates.size).toBe(1);
    expect(logIndexes.size).toBe(COUNT);
    // A bundle verifies for its own file only.
    const { root } = await loadTrustedRoot({ trustedRootPath: trust('trustedRoot') });
    const policy = compileIdentityPolicy(
      { certificateIdentity: info.identity, certificateOidcIssuer: info.issuerUrl },
      { required: true },
    );
    const crossed = await verifyBundleFile(join(cwd, 'files', 'f0.txt.sigstore.json'), join(cwd, 'files', 'f1.txt'), {
      trustedRoot: root,
      policy,
    });
    expect(crossed.verified).toBe(false);
    for (const i of [0, 41, 99, 150, 199]) {
      expectOk(
        await cosignVerifiesKeyless(
          { trustedRoot: trust('trustedRoot'), identity: info.identity, issuer: info.issuerUrl },
          join('files', `f${i}.txt.sigstore.json`),
          join('files', `f${i}.txt`),
          cwd,
        ),
      );
    }
    // Rerun with --skip-existing: nothing is signed again and Fulcio is not asked.
    const again = expectOk(
      await cosignkit(
        [
          'sign-blob',
          '--signing-config',
          trust('signingConfig'),
          '--trusted-root',
          trust('trustedRoot'),
          '--skip-existing',
          '-r',
          'files',
        ],
        { cwd, env: { SIGSTORE_ID_TOKEN: info.token } },
      ),
    );
    expect(again.stderr).toContain(`signed 0, skipped ${COUNT} of ${COUNT}`);
    // verify-blob of the whole directory, keyless: every bundle for its own file and the identity.
    const verifyAll = (identity = info.identity) =>
      cosignkit(
        [
          'verify-blob',
          '--trusted-root',
          trust('trustedRoot'),
          '--certificate-identity',
          identity,
          '--certificate-oidc-issuer',
          info.issuerUrl,
          '-r',
          'files',
        ],
        { cwd },
      );
    const verified = expectOk(await verifyAll());
    expect(verified.stderr).toContain(`verify-blob: verified ${COUNT} of ${COUNT}`);
    // One tampered file among them: exactly that file is reported, exit 2.
    writeFileSync(join(cwd, 'files', 'f7.txt'), 'tampered\n');
    const tampered = await verifyAll();
    expect(tampered.code).toBe(2);
    const failures = tampered.stderr.split('\n').filter((l) => l.startsWith('cosignkit: '));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain('f7.txt');
    expect(tampered.stderr).toContain(`verified ${COUNT - 1}, failed verification 1 of ${COUNT}`);
    // Another identity: none verifies.
    const mallory = await verifyAll('mallory@example.com');
    expect(mallory.code).toBe(2);
    expect(mallory.stderr).toContain(`verified 0, failed verification ${COUNT} of ${COUNT}`);
    console.log(
      `keyless batch: ${COUNT} files in ${seconds.toFixed(1)}s (${Math.round(COUNT / seconds)}/s) on 2 cores`,
    );
  }, 300_000);
});
