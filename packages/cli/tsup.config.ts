import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Options } from 'tsup';

type Plugin = NonNullable<Options['esbuildPlugins']>[number];
type TsupPlugin = NonNullable<Options['plugins']>[number];
import {
  BUILTIN_REQUIRE_BANNER,
  COMMONJS_WRAPPER,
  builtinsWithoutFacades,
  importThroughBin,
  libraryConfig,
  protobufSpecsDirectBase64,
} from '../../tsup.base.js';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };
const define = { __COSIGNKIT_VERSION__: JSON.stringify(version) };

/** The workspace libraries bundled into the command, by their source entry. */
const bundled: Record<string, string> = Object.fromEntries(
  [
    ['@cosignkit/core', 'core'],
    ['@cosignkit/dsse', 'dsse'],
    ['@cosignkit/oci', 'oci'],
    ['@cosignkit/key-file', 'key-file'],
    ['cosignkit', 'cosignkit'],
  ]
    .map(([name, dir]) => [name, `${dir}/src/index.ts`])
    // core's light subpath entries: an alias of `@cosignkit/core` alone would also remap these to `index.ts/…`
    .concat([
      ['@cosignkit/core/errors', 'core/src/errors.ts'],
      ['@cosignkit/core/config', 'core/src/config.ts'],
      ['@cosignkit/core/duration', 'core/src/shared/duration.ts'],
      ['@cosignkit/core/compile-cache', 'core/src/shared/compile-cache.ts'],
      ['@cosignkit/key-file/scrypt-prestart', 'key-file/src/scrypt-prestart.ts'],
      // The blob commands' light entry: through the index, esbuild's chunks would give them the registry side.
      ['cosignkit/blob', 'cosignkit/src/blob.ts'],
    ])
    .map(([name, path]) => [name, fileURLToPath(new URL(`../${path}`, import.meta.url))]),
);

/**
 * The bin's import of the split build's main: a file of the output (built below), not a source to bundle. The
 * bin is one file of its own, and main's split build emits `main.js` under that name for it.
 */
const mainImport: Plugin = {
  name: 'main-import',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/main\.js$/ }, (args) =>
      args.importer.endsWith('/src/bin/cosignkit.ts') ? { path: './main.js', external: true } : undefined,
    );
  },
};

/**
 * The hot commands: `sign-blob` and `verify-blob` (one-shot, run once per file), each in a one-file bundle of
 * its own (dist/bin/<name>.cjs, from src/bin/blob-main.ts) that holds that command alone. What a plain run of
 * the command never reaches stays out of its file (LAZY below), except `inside`: the file backend and the
 * pure-JS signing step that every keyed sign-blob uses.
 */
const fromCore = createRequire(fileURLToPath(new URL('../core/package.json', import.meta.url)));
const fromSigstore = createRequire(fileURLToPath(new URL('../sigstore/package.json', import.meta.url)));
const source = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

/**
 * What the hot commands import only off their plain path (the registry side and --push, the cosign CLI through
 * execa, other backends, @sigstore/bundle's parser, DSSE policies): the split build emits each as a named
 * file, dist/bin/lazy/<name>.js, and a hot bundle imports that file when it needs it. Such a module then
 * brings its own copies of the workspace code it uses, as the agent does; nothing here relies on a single copy
 * (errors are recognised by their brand, not their class).
 */
const LAZY: Record<string, string> = {
  execa: fromCore.resolve('execa'),
  'sigstore-bundle': fromCore.resolve('@sigstore/bundle'),
  // A signing config's parser and a Rekor v2 entry's: the keyless files import it only then.
  'protobuf-specs': fromSigstore.resolve('@sigstore/protobuf-specs'),
  'noble-der': fromCore.resolve('@noble/curves/abstract/der.js'),
  'noble-modular': fromCore.resolve('@noble/curves/abstract/modular.js'),
  'noble-utils': fromCore.resolve('@noble/curves/utils.js'),
  oci: source('oci/src/index.ts'),
  dsse: source('dsse/src/index.ts'),
  'key-file': source('key-file/src/index.ts'),
  cosignkit: source('cosignkit/src/index.ts'),
  'oci-shared': source('cli/src/commands/oci-shared.ts'),
  'registry-access': source('cosignkit/src/roles/registry-access.ts'),
  'cosign-oci': source('cosignkit/src/engines/cosign-oci.ts'),
  'sign-many': source('cosignkit/src/batch/sign-many.ts'),
  'verify-many': source('cosignkit/src/batch/verify-many.ts'),
};
const HOT: Record<string, { command: string; inside: string[] }> = {
  'sign-blob': {
    command: './commands/sign-blob.js',
    inside: ['key-file', 'noble-der', 'noble-modular', 'noble-utils'],
  },
  'verify-blob': { command: './commands/verify-blob.js', inside: [] },
};

/**
 * In a hot bundle, the command table's other entries load a module that says so: esbuild would otherwise put
 * every command into the one file. The bin sends only that command's lines there, so these never load.
 */
const onlyCommand = (held: string): Plugin => ({
  name: 'only-command',
  setup(build) {
    build.onResolve({ filter: /^\.\/commands\/[a-z-]+\.js$/ }, (args) =>
      args.importer.endsWith('/src/commands.ts') && args.path !== held
        ? { path: args.path, namespace: 'not-in-this-bundle' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'not-in-this-bundle' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in this command's bundle`)});`,
      loader: 'js',
    }));
  },
});

/**
 * In a hot bundle, a dynamic import of one of LAZY's modules (but `inside`) goes to the split build's file;
 * `from` is where that file is seen from (`./` in dist/bin/lazy/ itself).
 */
const lazyImports = (inside: readonly string[], from = './lazy/'): Plugin => {
  const names = new Map(
    Object.entries(LAZY)
      .filter(([name]) => !inside.includes(name))
      .map(([name, path]) => [path, name]),
  );
  return {
    name: 'lazy-imports',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind !== 'dynamic-import' || args.pluginData === 'lazy-imports') return undefined;
        const { path } = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: 'lazy-imports',
        });
        const name = names.get(path);
        return name === undefined ? undefined : { path: `${from}${name}.js`, external: true };
      });
    },
  };
};

/**
 * Keyless signing's entry of @cosignkit/sigstore, built from source into two files of the command
 * (dist/bin/lazy/), with everything they run bundled in, so loading them resolves no package. Through the
 * package the path was twelve files, each found through the exports map or a chunk import (about a
 * millisecond each in Node's ES module loader), a one-shot keyless sign-blob's largest cost before its
 * Fulcio request could leave.
 * - cosignkit-sigstore-keyless.js: keyless.ts, what the request needs (services, token, ephemeral key,
 *   Fulcio client), and no more, as it loads before the request leaves;
 * - cosignkit-sigstore-signing.js: everything keyless.ts loads on demand, in one file loaded once the request
 *   has left: the signing half (its loadSigning()) and noble's field and DER modules (core's digest signing).
 *   Its exports are the names those importers take (SIGNING_HALF).
 * protobuf-specs (a --signing-config's parser, a Rekor v2 entry's) is LAZY's file of its own: evaluating it
 * (its CommonJS exports copied for ES module importers) cost more than the rest of the signing file.
 */
const SIGSTORE_KEYLESS = fileURLToPath(new URL('../sigstore/src/keyless.ts', import.meta.url));
const KEYLESS_FILE = 'lazy/cosignkit-sigstore-keyless';
const SIGNING_FILE = 'lazy/cosignkit-sigstore-signing';

/** The on-demand imports of the keyless file: the importers allowed, and the names they take. */
const SIGNING_HALF: Record<string, { importers: string[]; names: string[] | '*'; from: string }> = {
  './sign.js': { importers: ['sigstore/src/keyless.ts'], names: '*', from: './sign.ts' },
  '@noble/curves/abstract/modular.js': {
    importers: ['core/src/keys/software-ecdsa.ts', 'sigstore/src/sign/ephemeral-certificate-key.ts'],
    names: ['Field', 'mapHashToField'],
    from: '@noble/curves/abstract/modular.js',
  },
  '@noble/curves/abstract/der.js': {
    importers: ['core/src/keys/software-ecdsa.ts', 'sigstore/src/sign/ephemeral-certificate-key.ts'],
    names: ['DER'],
    from: '@noble/curves/abstract/der.js',
  },
  '@noble/curves/utils.js': {
    importers: ['core/src/keys/software-ecdsa.ts', 'sigstore/src/sign/ephemeral-certificate-key.ts'],
    names: ['bytesToNumberBE'],
    from: '@noble/curves/utils.js',
  },
};

/** The signing file's entry: SIGNING_HALF's modules, re-exported under one namespace. */
const signingEntry: Plugin = {
  name: 'sigstore-signing-entry',
  setup(build) {
    // The build's entry is sign.ts (a file tsup can find); as the entry point it is this module instead.
    build.onResolve({ filter: /[\\/]sigstore[\\/]src[\\/]sign\.ts$/ }, (args) =>
      args.kind === 'entry-point' ? { path: 'entry', namespace: 'sigstore-signing' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'sigstore-signing' }, () => ({
      resolveDir: fileURLToPath(new URL('../sigstore/src/', import.meta.url)),
      loader: 'js',
      contents: Object.values(SIGNING_HALF)
        .map(({ names, from }) =>
          names === '*'
            ? `export * from ${JSON.stringify(from)};`
            : `export { ${names.join(', ')} } from ${JSON.stringify(from)};`,
        )
        .join('\n'),
    }));
  },
};

/**
 * In the keyless file, SIGNING_HALF's dynamic imports go to the signing file: `./<name>.js` beside the ES
 * module, `./lazy/<name>.cjs` from the CommonJS one (whose imports the bin resolves from dist/bin/).
 */
const signingHalfImports = (target: string): Plugin => ({
  name: 'sigstore-signing-half-imports',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const half = SIGNING_HALF[args.path];
      const importer = args.importer.replace(/\\/g, '/');
      // Others: LAZY's files (lazyImports, next), else refused (onlyKnownDynamicImports, last).
      if (!half?.importers.some((suffix) => importer.endsWith(suffix))) return undefined;
      return { path: target, external: true };
    });
  },
});

/**
 * The last say on the keyless file's dynamic imports: one that neither the signing file nor a LAZY file takes
 * fails the build (it would be bundled into the file loaded before the Fulcio request), a new on-demand
 * import needing its names in SIGNING_HALF or a file of its own.
 */
const onlyKnownDynamicImports: Plugin = {
  name: 'only-known-dynamic-imports',
  setup(build) {
    // (lazyImports resolves each one once more, marked, to find its path: that one is not for here.)
    build.onResolve({ filter: /.*/ }, (args) =>
      args.kind === 'dynamic-import' && args.pluginData !== 'lazy-imports'
        ? { errors: [{ text: `${args.path} from ${args.importer}: not in SIGNING_HALF nor LAZY (tsup.config.ts)` }] }
        : undefined,
    );
  },
};

/**
 * Dynamic imports of the keyless entry go to its file in dist/bin/lazy/: main's to the ES module (`.js`), the
 * hot bundles' to the CommonJS one (`.cjs`), which the bin runs with a code cache as it runs them.
 */
const sigstoreKeylessImports = (extension: '.js' | '.cjs'): Plugin => ({
  name: 'sigstore-keyless-imports',
  setup(build) {
    build.onResolve({ filter: /^@cosignkit\/sigstore\/keyless$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: `./${KEYLESS_FILE}${extension}`, external: true } : undefined,
    );
  },
});

/**
 * Keyless verification's file: src/keyless-verification.ts with @cosignkit/sigstore built in from source
 * (dist/bin/lazy/keyless-verification.cjs), what the hot bundles import instead of the package. Through the
 * package, a keyless verify-blob loaded six ES modules and compiled every function it ran on every start
 * (Node's compile cache holds a module's top level alone): a fifth of its time. Run by the bin with a code
 * cache made after a run, those functions are compiled once. Only @sigstore/tuf stays outside (the online
 * refresh of the trusted root, with its network stack): the command depends on it for this file.
 */
const KEYLESS_VERIFICATION = 'keyless-verification';

/** In a hot bundle, keyless-verify-options.ts's import of ./keyless-verification.js goes to that file. */
const keylessVerificationImport: Plugin = {
  name: 'keyless-verification-import',
  setup(build) {
    build.onResolve({ filter: /^\.\/keyless-verification\.js$/ }, (args) =>
      args.kind === 'dynamic-import' && args.importer.replace(/\\/g, '/').endsWith('/src/keyless-verify-options.ts')
        ? { path: `./lazy/${KEYLESS_VERIFICATION}.cjs`, external: true }
        : undefined,
    );
  },
};

/** A CommonJS file's import() calls, once built, are these alone (or the file would load what it should hold). */
const onlyImportsOf = (allowed: readonly string[]): TsupPlugin => ({
  name: 'only-imports-of',
  renderChunk(code, chunk) {
    for (const [, specifier] of code.matchAll(/(?<![\w$.])import\(([^)]*)\)/g)) {
      if (!allowed.includes(specifier!)) throw new Error(`${chunk.path}: import(${specifier}) is not expected`);
    }
    return undefined;
  },
});

/** What the command's two builds share: the workspace libraries from their sources, builtins without facades. */
const commandBuild = {
  outDir: 'dist/bin',
  format: ['esm'],
  sourcemap: true,
  dts: false,
  target: 'node22',
  platform: 'node',
  shims: false,
  noExternal: [...Object.keys(bundled), /^@noble\//],
  // From their sources, not their one-file dist: esbuild then drops each module a command never reaches.
  esbuildOptions(options) {
    options.alias = bundled;
  },
  // tsup's own plugin would otherwise take every `node:` import first (to strip the prefix) and keep it.
  removeNodeProtocol: false,
  define,
} satisfies Options;

/** How the keyless and signing files are built: as @cosignkit/sigstore builds itself (bundled CommonJS keeps
 * its require() of built-ins, and the banner gives the ES module a require for them), everything bundled. */
const sigstoreFileBuild = {
  splitting: false,
  clean: false,
  noExternal: [...commandBuild.noExternal, /^@sigstore\//, 'canonicalize'],
  banner: {
    js: BUILTIN_REQUIRE_BANNER,
  },
} satisfies Options;

// The bin's first two lines, read by sh (npm's symlink, pnpm's shim; `#!/usr/bin/env`, as publint asks) and
// skipped by Node (the `#!` line, then a string and a comment). sh starts Node with glibc's malloc asking for
// transparent huge pages (`glibc.malloc.hugetlb=1`, glibc ≥ 2.35; other libcs and older glibcs ignore it).
// The reason is scrypt: a cosign key's N=65536 takes 64 MiB, and each 4 KiB page costs a fault on first touch,
// most of a sign-blob's time where faults are dear (≈17 µs each in a VM: 16,000 of them). With huge pages it
// is 32. The user's own tunables come after ours, so theirs win (`glibc.malloc.hugetlb=0` turns it off).
// V8's young generation starts at 4 MiB semi-spaces instead of 1 MiB: a one-shot command then ends before its
// first scavenge (keyless verify-blob made two, ~1 ms each, keyless and key-file sign-blob one or two; 3 MiB
// is the least that spares a keyless sign-blob its last). Not more: a larger young generation costs start-up page
// faults of its own (8 MiB: ~50 more than 4 for a keyed verify-blob, ~1.4 ms of its ~109 in a VM). The flag is
// outside V8's code-cache flag hash, and a --max-semi-space-size of the user's (NODE_OPTIONS) still caps it.
const SH_PRELUDE = [
  '#!/usr/bin/env sh',
  `':' //; export GLIBC_TUNABLES="glibc.malloc.hugetlb=1\${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}"; exec node --min-semi-space-size=4 "$0" "$@"`,
].join('\n');

export default [
  libraryConfig({ entry: ['src/index.ts'], define }),
  // Every command but the blob ones: main (dist/bin/main.js) with the workspace libraries a hot command needs
  // bundled in (core, dsse, oci, the engines, the file backend) and every command a lazily loaded chunk. A run
  // then resolves no package and loads only what its command reaches: esbuild drops the imports
  // (node:readline, node:child_process, …) that the command's code never uses, which is most of a one-shot
  // run's start-up. The agent, keyless verification, the server and the dev stack stay packages of their own,
  // loaded on demand; keyless signing loads the files SIGSTORE_KEYLESS describes.
  defineConfig({
    ...commandBuild,
    entry: {
      main: 'src/main.ts',
      ...Object.fromEntries(Object.entries(LAZY).map(([name, path]) => [`lazy/${name}`, path])),
    },
    splitting: true,
    clean: true,
    // tsup's own plugin would take a dependency's import first and keep it: sigstoreKeylessImports decides it.
    noExternal: [...commandBuild.noExternal, '@cosignkit/sigstore/keyless'],
    esbuildPlugins: [sigstoreKeylessImports('.js'), builtinsWithoutFacades()],
  }),
  // The command as npm installs it (package.json `bin`): one file that starts scrypt, turns on the code cache,
  // reads the global flags and imports one of the two mains. One file, not an entry of the split build,
  // whose shared chunks would make every run load five more modules first.
  defineConfig({
    ...commandBuild,
    entry: { cosignkit: 'src/bin/cosignkit.ts' },
    format: ['cjs'],
    shims: true,
    splitting: false,
    clean: false,
    esbuildPlugins: [mainImport, builtinsWithoutFacades()],
    banner: { js: SH_PRELUDE },
  }),
  // The hot commands' bundles: what a plain run of the command runs, in one module. CommonJS, for the bin runs
  // each through vm.Script with a code cache made after a run (core's src/shared/code-cached-bundle.ts).
  ...Object.entries(HOT).map(([name, { command, inside }]) =>
    defineConfig({
      ...commandBuild,
      entry: { [`${name}-main`]: 'src/bin/blob-main.ts' },
      format: ['cjs'],
      // import.meta.url from __filename, which the bin's wrapper passes in.
      shims: true,
      splitting: false,
      clean: false,
      // tsup's own plugin would take a dependency's import first and keep it: sigstoreKeylessImports decides it.
      noExternal: [...commandBuild.noExternal, '@cosignkit/sigstore/keyless'],
      esbuildPlugins: [
        onlyCommand(command),
        sigstoreKeylessImports('.cjs'),
        keylessVerificationImport,
        lazyImports(inside),
        builtinsWithoutFacades({ everyFormat: true }),
      ],
      plugins: [importThroughBin],
      ...COMMONJS_WRAPPER,
    }),
  ),
  // The keyless file and the signing file (see SIGSTORE_KEYLESS): ES modules for main's commands, and the same
  // two as CommonJS for the hot bundles, which the bin runs with a code cache (a keyless sign-blob's functions
  // compiled once, not on every run: Node's cache of an ES module holds its top level alone).
  ...(['.js', '.cjs'] as const).flatMap((extension) => {
    const commonJs = extension === '.cjs';
    // A CommonJS file's imports go through the bin, which resolves them from dist/bin/.
    const from = commonJs ? './lazy/' : './';
    const format = commonJs
      ? { format: ['cjs'] as Options['format'], shims: true, plugins: [importThroughBin], ...COMMONJS_WRAPPER }
      : {};
    const builtins = builtinsWithoutFacades({ importsOnly: true, everyFormat: commonJs });
    return [
      defineConfig({
        ...commandBuild,
        ...sigstoreFileBuild,
        ...format,
        entry: { [KEYLESS_FILE]: SIGSTORE_KEYLESS },
        esbuildPlugins: [
          signingHalfImports(`${from}${SIGNING_FILE.replace(/^lazy\//, '')}${extension}`),
          lazyImports([], from),
          onlyKnownDynamicImports,
          builtins,
        ],
      }),
      defineConfig({
        ...commandBuild,
        ...sigstoreFileBuild,
        ...format,
        entry: { [SIGNING_FILE]: fileURLToPath(new URL('../sigstore/src/sign.ts', import.meta.url)) },
        // noble's modules are in the file already (SIGNING_HALF), not files of their own.
        esbuildPlugins: [signingEntry, lazyImports(['noble-der', 'noble-modular', 'noble-utils'], from), builtins],
      }),
    ];
  }),
  // Keyless verification's file (KEYLESS_VERIFICATION), CommonJS for the hot bundles.
  defineConfig({
    ...commandBuild,
    ...sigstoreFileBuild,
    entry: { [`lazy/${KEYLESS_VERIFICATION}`]: `src/${KEYLESS_VERIFICATION}.ts` },
    format: ['cjs'],
    shims: true,
    noExternal: [
      ...commandBuild.noExternal,
      '@cosignkit/sigstore',
      /^@sigstore\/(verify|bundle|core|protobuf-specs)(\/|$)/,
      'canonicalize',
    ],
    external: ['@sigstore/tuf'],
    esbuildOptions(options) {
      options.alias = { ...bundled, '@cosignkit/sigstore': source('sigstore/src/index.ts') };
    },
    esbuildPlugins: [protobufSpecsDirectBase64, builtinsWithoutFacades({ importsOnly: true, everyFormat: true })],
    // importThroughBin rewrites what onlyImportsOf has checked.
    plugins: [onlyImportsOf(['"@sigstore/tuf"']), importThroughBin],
    ...COMMONJS_WRAPPER,
  }),
];
