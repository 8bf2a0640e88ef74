import { COMMONJS_WRAPPER, importThroughBin, libraryConfig } from '../../tsup.base.js';

// Core's light entries (errors, config, duration, compile-cache) are a few lines importing nothing else:
// bundled, the plugin reports errors, reads its settings and keeps its code cache without resolving core.
// @noble/hashes (the handshake's HMAC) too: the plugin then resolves no package on the agent path.
const noExternal = [
  '@cosignkit/core/errors',
  '@cosignkit/core/config',
  '@cosignkit/core/duration',
  '@cosignkit/core/compile-cache',
  /^@noble\/hashes\//,
];

export default [
  libraryConfig({
    entry: ['src/index.ts', 'src/bin/sigstore-kms-cosignkit.ts', 'src/bin/cosignkit-agent.ts'],
    // Every output file gets it (esbuild has no per-entry banner); it is inert in the library.
    banner: { js: '#!/usr/bin/env node' },
    noExternal,
  }),
  // The plugin proper, which the bin (src/bin/sigstore-kms-cosignkit.ts) runs with a code cache: one CommonJS
  // file in Node's wrapper, its import() calls handed to the bin's (tsup.base.ts).
  libraryConfig({
    entry: { 'bin/plugin-main': 'src/bin/plugin-main.ts' },
    format: ['cjs'],
    dts: false,
    clean: false,
    noExternal,
    plugins: [importThroughBin],
    ...COMMONJS_WRAPPER,
  }),
];
