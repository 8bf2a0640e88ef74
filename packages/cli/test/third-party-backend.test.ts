import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cosignkit, tempHome } from './helpers.js';

// A third-party backend named in the project's config loads from the project's node_modules. The backend is
// a fake (a few lines answering listKeys): what is under test is the CLI finding and loading the package.
let home: ReturnType<typeof tempHome>;

beforeAll(() => {
  home = tempHome();
  const pkg = join(home.dir, 'node_modules', 'cosignkit-key-fake');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({ name: 'cosignkit-key-fake', version: '1.0.0', type: 'module', main: 'index.js' }),
  );
  writeFileSync(
    join(pkg, 'index.js'),
    `
const info = { id: 'one', algorithm: 'ed25519', backend: 'fake', ref: 'fake:one', publicKeyPem: '', fingerprint: '00' };
export const backend = {
  specVersion: 1, name: 'fake', schemes: ['fake'],
  capabilities: { generate: false, delete: false, algorithms: ['ed25519'], extractable: false },
  keyIdOf: (ref) => ref.path,
  open: async () => ({ backend: 'fake', listKeys: async () => [info], close: async () => {} }),
};
`,
  );
  writeFileSync(join(home.dir, 'cosignkit.config.json'), JSON.stringify({ backends: { fake: 'cosignkit-key-fake' } }));
});
afterAll(() => home?.cleanup());

it('lists the keys of a third-party backend installed in the project', async () => {
  const run = await cosignkit(['--json', 'key', 'list', '--backend', 'fake'], { cwd: home.dir });
  expect(run.code, run.stderr).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({ keys: [{ id: 'one', backend: 'fake', ref: 'fake:one' }] });
  const refused = await cosignkit(['key', 'generate', '--backend', 'fake', '--label', 'two'], { cwd: home.dir });
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/^cosignkit: the fake backend cannot generate keys \[NOT_SUPPORTED\]$/m);
});
