import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The plugin as a stock-cosign user installs it: @cosignkit/agent with its dependencies (core, key-file) and no
// native backend. The bin and its bundle are copied (not linked: a link would resolve back into this workspace, where the
// backends are dev dependencies), core and key-file are linked to the workspace builds.
const AGENT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = join(AGENT, '..');
let root: string;
let plugin: string;
let work: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cosignkit-plugin-install-'));
  const scope = join(root, 'node_modules', '@cosignkit');
  mkdirSync(join(scope, 'agent', 'dist', 'bin'), { recursive: true });
  copyFileSync(join(AGENT, 'package.json'), join(scope, 'agent', 'package.json'));
  plugin = join(scope, 'agent', 'dist', 'bin', 'sigstore-kms-cosignkit.cjs');
  // The bin and the bundle it runs (plugin-main.cjs, beside it).
  for (const file of ['sigstore-kms-cosignkit.cjs', 'plugin-main.cjs'])
    copyFileSync(join(AGENT, 'dist', 'bin', file), join(dirname(plugin), file));
  symlinkSync(join(PACKAGES, 'core'), join(scope, 'core'));
  symlinkSync(join(PACKAGES, 'key-file'), join(scope, 'key-file'));
  work = join(root, 'work');
  mkdirSync(work);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function call(keyResourceID: string, methodName: string): Record<string, unknown> {
  const request = { initOptions: { protocolVersion: 'v1', keyResourceID, hashFunc: 5 }, methodName, [methodName]: {} };
  const out = execFileSync(process.execPath, [plugin, 'v1', JSON.stringify(request)], {
    cwd: work,
    // No agent: the plugin loads the backend itself, which is what this install must make possible or refuse.
    env: { PATH: process.env.PATH, HOME: work, COSIGNKIT_NO_AGENT: '1' },
    input: '',
  });
  return JSON.parse(out.toString('utf8')) as Record<string, unknown>;
}

describe('the plugin installed without the native backends', () => {
  it('serves file keys (key-file is a dependency)', () => {
    expect(call('cosignkit://file:keys/', 'supportedAlgorithms')).toEqual({
      supportedAlgorithms: { supportedAlgorithms: expect.arrayContaining(['ecdsa-sha2-256-nistp256']) },
    });
  });

  it.each([
    ['pkcs11:token=ci;object=release', '@cosignkit/key-pkcs11'],
    ['tpm:release', '@cosignkit/key-tpm'],
    ['keyring:release', '@cosignkit/key-keyring'],
  ])('%s: one line naming the package to install [BACKEND_NOT_INSTALLED]', (ref, pkg) => {
    const answer = call(`cosignkit://${ref}`, 'supportedAlgorithms');
    expect(Object.keys(answer)).toEqual(['errorMessage']);
    const message = answer.errorMessage as string;
    expect(message).toContain(`npm install ${pkg}`);
    expect(message).toMatch(/\[BACKEND_NOT_INSTALLED\]$/);
    expect(message).not.toContain('\n');
  });
});
