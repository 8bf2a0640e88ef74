import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers.js';

// The command's CommonJS files (the hot bundles, dist/bin/lazy/*.cjs) import through the bin, which resolves
// each specifier from dist/bin/ (src/bin/cosignkit.ts). One that does not resolve from there fails only on
// the path that reaches it, and for @sigstore/tuf (an online refresh of the trusted root) not even loudly:
// the refresh fails and verification falls back to an older root with a warning. So each is resolved here.
const BIN = join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin');
const files = [
  ...readdirSync(BIN).filter((name) => name.endsWith('.cjs')),
  ...readdirSync(join(BIN, 'lazy'))
    .filter((name) => name.endsWith('.cjs'))
    .map((name) => `lazy/${name}`),
];
const fromBin = createRequire(join(BIN, 'cosignkit.cjs'));

describe("the imports of the command's CommonJS files", () => {
  it('include the keyless verification file, which imports @sigstore/tuf', () => {
    expect(files).toContain('lazy/keyless-verification.cjs');
    expect(importsOf('lazy/keyless-verification.cjs')).toEqual(['@sigstore/tuf']);
  });

  for (const file of files) {
    it(`${file}: each resolves from dist/bin/`, () => {
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith('./')) expect(existsSync(join(BIN, specifier)), specifier).toBe(true);
        else expect(() => fromBin.resolve(specifier), specifier).not.toThrow();
      }
    });
  }
});

/** The literal specifiers of the file's `__cosignkitImport("…")` calls (the build's rewrite of `import(`). */
function importsOf(file: string): string[] {
  const code = readFileSync(join(BIN, file), 'latin1');
  return [...new Set([...code.matchAll(/__cosignkitImport\("([^"]+)"\)/g)].map((m) => m[1]!))];
}
