import { defineConfig, type Options } from 'tsup';

/** The build every package shares (STYLE.md): ESM + CJS, types per condition, Node 22 syntax. */
export function libraryConfig(overrides: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node22',
    // import.meta.url in the CJS build.
    shims: true,
    ...overrides,
  });
}
