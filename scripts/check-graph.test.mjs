import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkGraph } from './check-graph.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TABLE = {
  '@cosignkit/core': [],
  '@cosignkit/oci': ['@cosignkit/core'],
  '@cosignkit/cli': ['@cosignkit/core', '@cosignkit/oci'],
};
const dirs = [];

/** A throwaway workspace: `files` maps paths under packages/ to their text. */
function workspace(files) {
  const root = mkdtempSync(join(tmpdir(), 'check-graph-'));
  dirs.push(root);
  const manifests = {
    'core/package.json': { name: '@cosignkit/core', exports: { '.': './dist/index.js' } },
    'oci/package.json': { name: '@cosignkit/oci', dependencies: { '@cosignkit/core': 'workspace:^' } },
    'cli/package.json': {
      name: '@cosignkit/cli',
      dependencies: { '@cosignkit/core': 'workspace:^', '@cosignkit/oci': 'workspace:^' },
    },
  };
  const all = {
    'core/src/index.ts': 'export const x = 1;\n',
    'oci/src/index.ts': "import { x } from '@cosignkit/core';\n",
    ...Object.fromEntries(Object.entries(manifests).map(([k, v]) => [k, JSON.stringify(v)])),
    ...files,
  };
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(root, 'packages', path)), { recursive: true });
    writeFileSync(join(root, 'packages', path), typeof text === 'string' ? text : JSON.stringify(text));
  }
  return root;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('check-graph', () => {
  it('passes on this repository', () => {
    expect(checkGraph(ROOT)).toEqual([]);
  });

  it('passes a workspace that follows its table', () => {
    expect(checkGraph(workspace({ 'cli/src/main.ts': "import { x } from '@cosignkit/oci';\n" }), TABLE)).toEqual([]);
  });

  it('fails an import against the arrows', () => {
    const root = workspace({ 'core/src/up.ts': "export { y } from '@cosignkit/oci';\n" });
    expect(checkGraph(root, TABLE)).toEqual([
      expect.stringContaining('imports @cosignkit/oci, which the graph does not allow for @cosignkit/core'),
    ]);
  });

  it("fails a reach into another package's files, by subpath or relative path", () => {
    const root = workspace({
      'cli/src/a.ts': "import { x } from '@cosignkit/core/src/index.js';\n",
      'cli/src/b.ts': "const m = await import('../../oci/src/index.js');\n",
    });
    const problems = checkGraph(root, TABLE);
    expect(problems).toContainEqual(expect.stringContaining('an internal file of @cosignkit/core'));
    expect(problems).toContainEqual(expect.stringContaining('outside its package'));
  });

  it('fails an undeclared dependency, a declared one against the arrows, and a package with no row', () => {
    const root = workspace({
      'oci/package.json': { name: '@cosignkit/oci', dependencies: { '@cosignkit/cli': 'workspace:^' } },
      'extra/package.json': { name: '@cosignkit/extra' },
    });
    const problems = checkGraph(root, TABLE);
    expect(problems).toContainEqual(expect.stringContaining("not in @cosignkit/oci's dependencies"));
    expect(problems).toContainEqual(expect.stringContaining('package.json depends on @cosignkit/cli'));
    expect(problems).toContainEqual(expect.stringContaining('@cosignkit/extra: no row'));
  });
});
