import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Options } from 'tsup';

type Plugin = NonNullable<Options['esbuildPlugins']>[number];
import { builtinsWithoutFacades, libraryConfig } from '../../tsup.base.js';

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
 * The bin's imports of the two mains: files of the output (built below), not sources to bundle. The bin is
 * one file of its own, and main's split build emits `main.js` under that name for it.
 */
const mainImports: Plugin = {
  name: 'main-imports',
  setup(build) {
    build.onResolve({ filter: /^(\.\/blob-main|\.\.\/main)\.js$/ }, (args) =>
      args.importer.endsWith('/src/bin/cosignkit.ts')
        ? { path: `./${args.path.replace(/^\.\.?\//, '')}`, external: true }
        : undefined,
    );
  },
};

/** The commands the blob bundle holds; main's table names the others, which the bin never sends there. */
const BLOB_COMMANDS = new Set(['./commands/sign-blob.js', './commands/verify-blob.js']);

/**
 * In the blob bundle, the command table's other entries load a module that says so: esbuild would otherwise
 * put every command into the one file. The bin sends only `sign-blob` and `verify-blob` lines there, which
 * main resolves to those two and no other, so these never load.
 */
const onlyBlobCommands: Plugin = {
  name: 'only-blob-commands',
  setup(build) {
    build.onResolve({ filter: /^\.\/commands\/[a-z-]+\.js$/ }, (args) =>
      args.importer.endsWith('/src/commands.ts') && !BLOB_COMMANDS.has(args.path)
        ? { path: args.path, namespace: 'not-in-blob-bundle' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'not-in-blob-bundle' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in the blob commands' bundle`)});`,
      loader: 'js',
    }));
  },
};

/**
 * Third-party modules the blob commands import only off their one-file key path (execa runs the cosign CLI,
 * @sigstore/bundle parses a bundle): the split build emits each as a named file, and the blob bundle imports
 * that file rather than holding the largest part of its size in code a plain run never evaluates.
 */
const fromCore = createRequire(fileURLToPath(new URL('../core/package.json', import.meta.url)));
const SHARED_LAZY: Record<string, string> = {
  execa: fromCore.resolve('execa'),
  '@sigstore/bundle': fromCore.resolve('@sigstore/bundle'),
};
const lazyEntryName = (specifier: string) => `lazy/${specifier.replace(/^@/, '').replace(/\//g, '-')}`;

/** In the blob bundle, the imports of SHARED_LAZY's modules go to the split build's files of them. */
const sharedLazyImports: Plugin = {
  name: 'shared-lazy-imports',
  setup(build) {
    build.onResolve({ filter: /^(execa|@sigstore\/bundle)$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: `./${lazyEntryName(args.path)}.js`, external: true } : undefined,
    );
  },
};

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

export default [
  libraryConfig({ entry: ['src/index.ts'], define }),
  // Every command but the blob ones: main (dist/bin/main.js) with the workspace libraries a hot command needs
  // bundled in (core, dsse, oci, the engines, the file backend) and every command a lazily loaded chunk. A run
  // then resolves no package and loads only what its command reaches: esbuild drops the imports
  // (node:readline, node:child_process, …) that the command's code never uses, which is most of a one-shot
  // run's start-up. The agent, keyless signing, the server and the dev stack stay packages of their own,
  // loaded on demand.
  defineConfig({
    ...commandBuild,
    entry: {
      main: 'src/main.ts',
      ...Object.fromEntries(Object.entries(SHARED_LAZY).map(([name, path]) => [lazyEntryName(name), path])),
    },
    splitting: true,
    clean: true,
    esbuildPlugins: [builtinsWithoutFacades()],
  }),
  // The command as npm installs it (package.json `bin`): one file that starts scrypt, turns on the code cache,
  // reads the global flags and imports one of the two mains. One file, not an entry of the split build,
  // whose shared chunks would make every run load five more modules first.
  defineConfig({
    ...commandBuild,
    entry: { cosignkit: 'src/bin/cosignkit.ts' },
    splitting: false,
    clean: false,
    esbuildPlugins: [mainImports, builtinsWithoutFacades()],
    banner: { js: '#!/usr/bin/env node' },
  }),
  // sign-blob and verify-blob's main as one file (src/bin/blob-main.ts): what they run, in one module; what
  // they may run (a batch, keyless, the file backend) inside it too, evaluated only when imported.
  defineConfig({
    ...commandBuild,
    entry: { 'blob-main': 'src/bin/blob-main.ts' },
    splitting: false,
    clean: false,
    esbuildPlugins: [onlyBlobCommands, sharedLazyImports, builtinsWithoutFacades()],
  }),
];
