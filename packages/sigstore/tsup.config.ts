import {
  BUILTIN_REQUIRE_BANNER,
  builtinsWithoutFacades,
  libraryConfig,
  protobufSpecsDirectBase64,
} from '../../tsup.base.js';

// @sigstore/verify, bundle, core and protobuf-specs are bundled in: loaded as ~100 CommonJS files they cost
// more CPU than the whole keyless verification (0.11 s vs 0.01 s bundled, with the compile cache), and a
// verify-blob is one short process. @sigstore/tuf stays external (its network stack is loaded only online).
export default libraryConfig({
  // keyless.ts: the light entry a keyless signing command loads first; sign.ts what it loads next (see there).
  entry: ['src/index.ts', 'src/keyless.ts', 'src/sign.ts'],
  noExternal: [
    /^@sigstore\/(verify|bundle|core|protobuf-specs)(\/|$)/,
    /^@cosignkit\/(core|dsse)$/,
    'canonicalize',
    /^@noble\//,
  ],
  external: ['execa', '@sigstore/tuf', 'oauth4webapi'],
  esbuildPlugins: [protobufSpecsDirectBase64, builtinsWithoutFacades({ importsOnly: true })],
  // tsup's own plugin would otherwise take every `node:` import first (to strip the prefix) and keep it.
  removeNodeProtocol: false,
  // Bundled CommonJS calls require() for Node built-ins (only those: @sigstore/* need crypto and util); an ES
  // module has none, so give it one (tsup.base.ts).
  banner: (ctx) =>
    ctx.format === 'esm'
      ? {
          js: BUILTIN_REQUIRE_BANNER,
        }
      : undefined,
});
