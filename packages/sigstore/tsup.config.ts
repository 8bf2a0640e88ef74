import { readFile } from 'node:fs/promises';
import type { Options } from 'tsup';
import { BUILTIN_REQUIRE_BANNER, builtinsWithoutFacades, libraryConfig } from '../../tsup.base.js';

type Plugin = NonNullable<Options['esbuildPlugins']>[number];

const BYTES_FROM_BASE64 = 'return Uint8Array.from(globalThis.Buffer.from(b64, "base64"));';

/**
 * @sigstore/protobuf-specs' generated decoders read every `bytes` field of a bundle (certificate, log entry
 * body, SET, each inclusion-proof hash) as `Buffer.from(bytesFromBase64(s))`: bytesFromBase64 decodes into a
 * Buffer, copies that into a fresh Uint8Array through `Uint8Array.from`, which walks it element by element,
 * and the caller copies the result once more. The bundled copy decodes each such field straight into the
 * Buffer it keeps (`Buffer.from(s, "base64")`, the same bytes, pooled below 4 KiB as Buffer.from(copy) is),
 * about a third of the cost, on every verification. A generated file with another use of bytesFromBase64
 * fails the build (a new protobuf-specs: look again).
 */
const directBase64: Plugin = {
  name: 'protobuf-specs-direct-base64',
  setup(build) {
    build.onLoad({ filter: /@sigstore[\\/]protobuf-specs[\\/]dist[\\/]__generated__[\\/].*\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('function bytesFromBase64(')) return { contents: source, loader: 'js' };
      const direct = source.replace(/Buffer\.from\(bytesFromBase64\(([\w.?]+)\)\)/g, 'Buffer.from($1, "base64")');
      // Every other use is the definition: a call whose result is not copied would need the original.
      if (!source.includes(BYTES_FROM_BASE64) || direct.split('bytesFromBase64(').length !== 2) {
        throw new Error(`${args.path}: bytesFromBase64 is not what the direct-base64 plugin expects`);
      }
      return { contents: direct, loader: 'js' };
    });
  },
};

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
  esbuildPlugins: [directBase64, builtinsWithoutFacades({ importsOnly: true })],
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
