import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.base.js';

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

export default [
  libraryConfig({ entry: ['src/index.ts'], define }),
  // The command as npm installs it: one ESM entry with the workspace libraries a hot command needs bundled
  // in (core, dsse, oci, the engines, the file backend) and every command a lazily loaded chunk. A run then
  // resolves no package and loads only what its command reaches: esbuild drops the imports (node:readline,
  // node:child_process, …) that the command's code never uses, which is most of a one-shot run's start-up.
  // The agent, keyless signing, the server and the dev stack stay packages of their own, loaded on demand.
  defineConfig({
    entry: { cosignkit: 'src/bin/cosignkit.ts' },
    outDir: 'dist/bin',
    format: ['esm'],
    splitting: true,
    sourcemap: true,
    clean: true,
    dts: false,
    target: 'node22',
    platform: 'node',
    shims: false,
    noExternal: [...Object.keys(bundled), /^@noble\//],
    // From their sources, not their one-file dist: esbuild then drops each module a command never reaches.
    esbuildOptions(options) {
      options.alias = bundled;
    },
    banner: { js: '#!/usr/bin/env node' },
    define,
  }),
];
