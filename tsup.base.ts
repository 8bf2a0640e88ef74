import { readFile } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
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

type Plugin = NonNullable<Options['esbuildPlugins']>[number];
type TsupPlugin = NonNullable<Options['plugins']>[number];

const require = createRequire(import.meta.url);
const BUILTINS = new Set(builtinModules);

/**
 * Node's built-in modules without their ESM facades, for the ES module bundles that one-shot commands load
 * (issue 19). An ESM `import … from 'node:fs'` makes Node build the module's facade, which reads every export,
 * lazy getters included: node:fs then loads fs/promises (and readline's interface with it), node:util loads
 * worker_threads, streams and assert's diff, node:crypto loads webcrypto, about 10 ms of a 100 ms
 * `verify-blob` for code it never runs. Here each built-in is a small ESM module of the bundle that takes the
 * exports from process.getBuiltinModule (no facade) and re-exports them by name, one pure read per export, so
 * esbuild keeps only the names the bundle imports and a getter nobody imports is never read. node:fs/promises
 * is loaded at the first call of one of its functions (onFirstCall). The names are the build's Node's: one
 * that does not exist fails the build, as it would fail to link.
 *
 * `importsOnly`: only `import` statements are rewritten, and a bundled CommonJS library's require() of a
 * built-in stays a require() (the build then gives its ES module one): a namespace object made from one of
 * these modules for require() would read every export, which is what the facade does.
 *
 * Only ES module builds, unless `everyFormat`: a library's CommonJS build is for require(), which has no
 * facades, while the CLI's CommonJS bundle (code-cached-bundle.ts) still wants node:fs/promises at first call.
 */
export function builtinsWithoutFacades(options: { importsOnly?: boolean; everyFormat?: boolean } = {}): Plugin {
  return {
    name: 'builtins-without-facades',
    setup(build) {
      if (build.initialOptions.format !== 'esm' && !options.everyFormat) return;
      build.onResolve({ filter: /^(node:)?[a-z_]+(\/[a-z0-9_]+)?$/ }, (args) => {
        if (options.importsOnly && args.kind !== 'import-statement') return undefined;
        const name = args.path.replace(/^node:/, '');
        return BUILTINS.has(name) ? { path: name, namespace: 'builtin' } : undefined;
      });
      build.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => {
        const id = JSON.stringify(`node:${args.path}`);
        const exported = require(`node:${args.path}`) as Record<string, unknown>;
        const names = Object.getOwnPropertyNames(exported).filter((name) => name !== 'default');
        if (args.path === 'fs/promises') return { contents: onFirstCall(id, exported, names), loader: 'js' };
        const lines = names.map(
          (name, i) =>
            `const _${i} = /* @__PURE__ */ read(${JSON.stringify(name)});\nexport { _${i} as ${JSON.stringify(name)} };`,
        );
        return {
          contents: [
            `const m = process.getBuiltinModule(${id});`,
            'const read = (name) => m[name];',
            'export default m;',
            ...lines,
          ].join('\n'),
          loader: 'js',
        };
      });
    },
  };
}

/**
 * A `require` for an ES module build that bundles CommonJS (sigstore-js): such code calls require() for Node
 * built-ins alone, which come from process.getBuiltinModule, not through the CommonJS loader (which would load
 * its hooks and TypeScript support for a name it then finds built in); anything else goes to a real require of
 * the file.
 */
export const BUILTIN_REQUIRE_BANNER =
  "const require = (id) => process.getBuiltinModule(id) ?? process.getBuiltinModule('node:module').createRequire(import.meta.url)(id);";

/**
 * node:fs/promises loaded at the first call of one of its functions, not when a module that may call one is:
 * loading it loads readline's interface, fs/dir and the watchers too (~3 ms), and most bundled modules import
 * it for a path a one-shot command does not take. Each export is a function but `constants`, which is
 * node:fs's own object.
 */
function onFirstCall(id: string, exported: Record<string, unknown>, names: string[]): string {
  const functions = names.filter((name) => typeof exported[name] === 'function');
  if (names.some((name) => name !== 'constants' && !functions.includes(name))) {
    throw new Error(`${id} exports more than functions and constants: review the lazy built-ins`);
  }
  return [
    'let m;',
    `const load = () => (m ??= process.getBuiltinModule(${id}));`,
    "export const constants = process.getBuiltinModule('node:fs').constants;",
    ...functions.map((name) => `export function ${name}(...args) {\n  return load().${name}(...args);\n}`),
    `export default { constants, ${functions.join(', ')} };`,
  ].join('\n');
}

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
export const protobufSpecsDirectBase64: Plugin = {
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

/**
 * A bin's code-cached bundle (the CLI's hot commands and keyless files, the KMS plugin) runs in vm.Script
 * (core's code-cached-bundle.ts), where import() needs an experimental flag: its dynamic imports, after
 * bundling only those of files outside it (a lazily loaded file, another package, a third party's backend),
 * call the import the bin hands in instead.
 */
export const importThroughBin: TsupPlugin = {
  name: 'import-through-bin',
  renderChunk(code, chunk) {
    if (!chunk.path.endsWith('.cjs')) return undefined;
    // The bin reads the file as Latin-1, which is only right for ASCII (esbuild's default charset).
    if (/[^\x00-\x7f]/.test(code)) throw new Error(`${chunk.path}: not ASCII`);
    return { code: code.replace(/(?<![\w$.])import\(/g, '__cosignkitImport(') };
  },
};

/** Node's CommonJS wrapper, written into the file: the bin compiles the text as it is (code-cached-bundle.ts). */
export const COMMONJS_WRAPPER = {
  banner: { js: '(function (exports, require, module, __filename, __dirname, __cosignkitImport) {' },
  footer: { js: '})' },
};
