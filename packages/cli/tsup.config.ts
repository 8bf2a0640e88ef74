import { readFileSync } from 'node:fs';
import { libraryConfig } from '../../tsup.base.js';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default libraryConfig({
  entry: ['src/index.ts', 'src/bin/cosignkit.ts'],
  // Every output file gets it (esbuild has no per-entry banner); it is inert in chunks and the library.
  banner: { js: '#!/usr/bin/env node' },
  define: { __COSIGNKIT_VERSION__: JSON.stringify(version) },
});
