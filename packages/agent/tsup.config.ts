import { libraryConfig } from '../../tsup.base.js';

export default libraryConfig({
  entry: ['src/index.ts', 'src/bin/sigstore-kms-cosignkit.ts'],
  // Every output file gets it (esbuild has no per-entry banner); it is inert in the library.
  banner: { js: '#!/usr/bin/env node' },
  // Core's errors entry is a few lines with no imports: bundled, the plugin reports errors without resolving core.
  noExternal: ['@cosignkit/core/errors'],
});
