import { spawn } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DevStack, STACK_FILES, type StackInfo } from '@cosignkit/dev-stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cosignkit, expectFailure, expectOk, tempHome, type Run } from './helpers.js';

// Interactive sign-in against the dev stack's OIDC issuer (its authorize, token and device endpoints over
// real HTTP on loopback), then Fulcio, Rekor and the TSA from @sigstore/mock on the same stack. The test plays
// the user: as the "browser" ($BROWSER is a script that follows the authorization URL with fetch), and on
// the "other device" (it reads the user code from stderr and approves it).
let stack: DevStack;
let info: StackInfo;
const home = tempHome();
const cwd = home.dir;
const trust = (name: keyof typeof STACK_FILES) => join(cwd, 'stack', STACK_FILES[name]);

beforeAll(async () => {
  stack = await DevStack.start();
  info = await stack.writeFiles(join(cwd, 'stack'));
  writeFileSync(join(cwd, 'blob.txt'), 'interactive sign-in\n');
  // The "browser": follows the URL (the issuer consents and redirects to the loopback listener).
  writeFileSync(
    join(cwd, 'browser.mjs'),
    `#!/usr/bin/env node\nconst r = await fetch(process.argv[2]);\nawait r.text();\nprocess.exit(r.ok ? 0 : 1);\n`,
  );
  chmodSync(join(cwd, 'browser.mjs'), 0o755);
});

afterAll(async () => {
  await stack?.close();
  home.cleanup();
});

const signArgs = (bundle: string, extra: string[]) => [
  'sign-blob',
  '--signing-config',
  trust('signingConfig'),
  '--trusted-root',
  trust('trustedRoot'),
  '--oidc-issuer',
  info.issuerUrl,
  ...extra,
  '--bundle',
  bundle,
  'blob.txt',
];

const verify = (bundle: string) =>
  cosignkit(
    [
      'verify-blob',
      '--bundle',
      bundle,
      '--certificate-identity',
      info.identity,
      '--certificate-oidc-issuer',
      info.issuerUrl,
      '--trusted-root',
      trust('trustedRoot'),
      'blob.txt',
    ],
    { cwd },
  );

/** Runs the CLI; `onStderr` sees stderr as it arrives (to act on a prompt). */
function runLive(args: string[], env: Record<string, string | undefined>, onStderr: (text: string) => void) {
  return new Promise<Run>((resolve, reject) => {
    const environment: NodeJS.ProcessEnv = { ...process.env, HOME: cwd, XDG_CONFIG_HOME: join(cwd, '.config') };
    delete environment.SIGSTORE_ID_TOKEN;
    for (const [k, v] of Object.entries(env))
      if (v === undefined) delete environment[k];
      else environment[k] = v;
    const child = spawn(CLI, args, { cwd, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      onStderr(stderr);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('interactive sign-in (the dev stack issuer over HTTP)', () => {
  it('browser flow: PKCE, a loopback redirect; the bundle verifies for the identity; no token printed', async () => {
    const run = expectOk(
      await cosignkit(signArgs('browser.json', ['--oidc-flow', 'browser']), {
        cwd,
        env: { SIGSTORE_ID_TOKEN: undefined, BROWSER: join(cwd, 'browser.mjs') },
      }),
    );
    expect(run.stderr).toMatch(/Your browser will now be opened to: http:\/\/127\.0\.0\.1:\d+\/authorize\?/);
    expect(run.stderr).toContain('code_challenge_method=S256');
    expect(run.stderr).toMatch(/token from sign-in at/);
    expect(run.stderr).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}/);
    expect(expectOk(await verify('browser.json')).stdout).toContain('Verified OK');
  });

  it('device flow (the default without a terminal): the code is shown, approved elsewhere, then signing goes on', async () => {
    let approved = false;
    const run = await runLive(signArgs('device.json', []), {}, (text) => {
      const url = /\(or open (http\S+)\)/.exec(text)?.[1];
      if (url && !approved) {
        approved = true;
        void fetch(url).then((r) => r.text());
      }
    });
    expectOk(run);
    expect(run.stderr).toMatch(/Enter the code [A-Z]{4}-[A-Z]{4} at http:\/\/127\.0\.0\.1:\d+\/device/);
    expect(run.stderr).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}/);
    expect(expectOk(await verify('device.json')).stdout).toContain('Verified OK');
  });

  it('a refused sign-in is one line, and nothing is written', async () => {
    // The issuer refuses a redirect that is not on loopback before any browser is involved.
    const run = await cosignkit(
      signArgs('refused.json', ['--oidc-flow', 'browser', '--oidc-redirect-url', 'http://example.com/cb']),
      { cwd, env: { SIGSTORE_ID_TOKEN: undefined } },
    );
    expectFailure(run, 1, 'USAGE');
    expect(existsSync(join(cwd, 'refused.json'))).toBe(false);
  });

  it('--oidc-flow takes browser or device', async () => {
    const run = await cosignkit(signArgs('x.json', ['--oidc-flow', 'carrier-pigeon']), {
      cwd,
      env: { SIGSTORE_ID_TOKEN: undefined },
    });
    expectFailure(run, 1, 'USAGE');
  });
});
