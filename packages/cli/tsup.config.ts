import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  entry: ['src/index.ts', 'src/bin/cosignkit.ts', 'src/bin/sigstore-kms-cosignkit.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node22',
  shims: true,
  // Every output file gets it (esbuild has no per-entry banner); it is inert in chunks and the library.
  banner: { js: '#!/usr/bin/env node' },
  define: { __COSIGNKIT_VERSION__: JSON.stringify(version) },
});
