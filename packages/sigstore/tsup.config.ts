import { libraryConfig } from '../../tsup.base.js';

// @sigstore/verify, bundle, core and protobuf-specs are bundled in: loaded as ~100 CommonJS files they cost
// more CPU than the whole keyless verification (0.11 s vs 0.01 s bundled, with the compile cache), and a
// verify-blob is one short process. @sigstore/tuf stays external (its network stack is loaded only online).
export default libraryConfig({
  // keyless.ts: the light entry a keyless signing command loads first (see there).
  entry: ['src/index.ts', 'src/keyless.ts'],
  noExternal: [/^@sigstore\/(verify|bundle|core|protobuf-specs)(\/|$)/],
  // Bundled CommonJS calls require() for Node built-ins; an ES module has none, so give it one.
  banner: (ctx) =>
    ctx.format === 'esm'
      ? {
          js: "import { createRequire as __cosignkitCreateRequire } from 'node:module';\nconst require = __cosignkitCreateRequire(import.meta.url);",
        }
      : undefined,
});
