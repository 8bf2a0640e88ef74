import { readFile } from 'node:fs/promises';
import type { Options } from 'tsup';
import { libraryConfig } from '../../tsup.base.js';

type Plugin = NonNullable<Options['esbuildPlugins']>[number];

const BYTES_FROM_BASE64 = 'return Uint8Array.from(globalThis.Buffer.from(b64, "base64"));';

/**
 * @sigstore/protobuf-specs' generated decoders read every `bytes` field of a bundle (certificate, log entry
 * body, SET, each inclusion-proof hash) as `Buffer.from(bytesFromBase64(s))`, where bytesFromBase64 copies the
 * decoded Buffer into a fresh Uint8Array through `Uint8Array.from`, which walks it element by element: about
 * three times the cost of the decoding itself, on every verification. Each caller copies the result again
 * with Buffer.from, so the bundled copy returns the decoded Buffer as it is: the same bytes, one walk fewer.
 * A generated file without that exact line fails the build (a new protobuf-specs: look again).
 */
const directBase64: Plugin = {
  name: 'protobuf-specs-direct-base64',
  setup(build) {
    build.onLoad({ filter: /@sigstore[\\/]protobuf-specs[\\/]dist[\\/]__generated__[\\/].*\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('function bytesFromBase64(')) return { contents: source, loader: 'js' };
      // Every call must be one that copies the result: the definition plus `Buffer.from(bytesFromBase64(…))`.
      const calls = source.split('bytesFromBase64(').length - 1;
      const copied = source.split('Buffer.from(bytesFromBase64(').length - 1;
      if (!source.includes(BYTES_FROM_BASE64) || calls !== copied + 1) {
        throw new Error(`${args.path}: bytesFromBase64 is not what the direct-base64 plugin expects`);
      }
      return { contents: source.replace(BYTES_FROM_BASE64, 'return globalThis.Buffer.from(b64, "base64");'), loader: 'js' };
    });
  },
};

// @sigstore/verify, bundle, core and protobuf-specs are bundled in: loaded as ~100 CommonJS files they cost
// more CPU than the whole keyless verification (0.11 s vs 0.01 s bundled, with the compile cache), and a
// verify-blob is one short process. @sigstore/tuf stays external (its network stack is loaded only online).
export default libraryConfig({
  // keyless.ts: the light entry a keyless signing command loads first (see there).
  entry: ['src/index.ts', 'src/keyless.ts'],
  noExternal: [/^@sigstore\/(verify|bundle|core|protobuf-specs)(\/|$)/],
  esbuildPlugins: [directBase64],
  // Bundled CommonJS calls require() for Node built-ins; an ES module has none, so give it one.
  banner: (ctx) =>
    ctx.format === 'esm'
      ? {
          js: "import { createRequire as __cosignkitCreateRequire } from 'node:module';\nconst require = __cosignkitCreateRequire(import.meta.url);",
        }
      : undefined,
});
