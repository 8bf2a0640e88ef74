import { libraryConfig } from '../../tsup.base.js';

export default libraryConfig({
  entry: ['src/index.ts', 'src/bin/sigstore-kms-cosignkit.ts', 'src/bin/cosignkit-agent.ts'],
  // Every output file gets it (esbuild has no per-entry banner); it is inert in the library.
  banner: { js: '#!/usr/bin/env node' },
  // Core's light entries (errors, config, duration, compile-cache) are a few lines importing nothing else:
  // bundled, the plugin reports errors, reads its settings and keeps its code cache without resolving core.
  // @noble/hashes (the handshake's HMAC) too: the plugin then resolves no package on the agent path.
  noExternal: [
    '@cosignkit/core/errors',
    '@cosignkit/core/config',
    '@cosignkit/core/duration',
    '@cosignkit/core/compile-cache',
    /^@noble\/hashes\//,
  ],
});
