// The entry loads only what starting scrypt needs (a few node: modules and the prestart): everything else is
// imported below, after scrypt is running on the thread pool (issue 19).
import { type CodeCachedBundle, enableCompileCache, loadCodeCachedBundle } from '@cosignkit/core/compile-cache';
import { parseGlobals } from '../global-flags.js';
import { startEarlyKeyDerivation } from './early-key-derivation.js';

/** The commands run from a bundle of their own (./<command>-main.cjs, tsup.config.ts), which holds no other. */
const HOT_COMMANDS: ReadonlySet<string | undefined> = new Set(['sign-blob', 'verify-blob']);

// First of all: scrypt for a signing command's key file runs on the thread pool while the rest loads.
startEarlyKeyDerivation(process.argv.slice(2), process.env);

// A reader that goes away (`cosignkit --help | head -1`) is not an error worth a stack trace. The handler is
// added when Node first builds the stream: building both here would load node:stream on every run, while
// main writes its output straight to the descriptors (fd-output.ts) and most runs never build either.
let streamBuilt = false;
for (const name of ['stdout', 'stderr'] as const) {
  onFirstBuild(name, (stream) => {
    streamBuilt = true;
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  });
}

// `sign-blob` and `verify-blob` (the one-shot commands run once per file) each from a one-file bundle of its
// own, run with a code cache of what a run compiles (core's code-cached-bundle.ts); every other command from the split
// build. The same global flags decide as in main itself; a line they refuse goes to the split build, whose
// main reports it.
const command = commandOf(process.argv.slice(2));
const codeCached = new Map<string, CodeCachedBundle<unknown>>();
const blob = HOT_COMMANDS.has(command)
  ? (runCodeCached(`./${command}-main.cjs`, pathOf(command, process.argv)) as CodeCachedBundle<
      typeof import('./blob-main.js')
    >)
  : undefined;

// The only place that decides the process's exit status and ends it early (below); nothing else calls
// process.exit.
(blob ? Promise.resolve(blob.exports) : importSplitMain())
  .then(({ main }) => main(process.argv.slice(2)))
  .then(
    (code) => {
      process.exitCode = code;
      // After a run that went as runs usually go: its caches then hold what such runs compile.
      if (code === 0) for (const bundle of codeCached.values()) bundle.saveCodeCache();
      // A hot command has written everything straight to the descriptors (fd-output.ts) and left nothing
      // running: it ends now, not once the event loop has drained, where V8 would run the young-generation
      // collection it scheduled (3-6 ms) on a heap about to be thrown away (issue 19). Once a stream has been
      // built it may hold writes that have not drained: those runs end the usual way.
      if (blob && !streamBuilt) process.exit();
    },
    (error: unknown) => {
      // main() reports every error itself; this is the last resort should reporting fail.
      process.stderr.write(`cosignkit: ${error instanceof Error ? error.message : String(error)} [INTERNAL]\n`);
      process.exitCode = 1;
    },
  );

/**
 * The import a hot bundle is handed (its `import()` calls are rewritten to it, tsup.config.ts), resolving from
 * dist/bin/ as the bundle's own would. A CommonJS file of the build (the hot bundles, the keyless files) runs
 * once, with a code cache of its own (core's code-cached-bundle.ts); anything else is imported.
 */
function importModule(specifier: string): Promise<unknown> {
  if (!specifier.endsWith('.cjs')) {
    withCompileCache();
    return import(specifier);
  }
  try {
    return Promise.resolve(runCodeCached(specifier).exports);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Runs one of the build's CommonJS files once (later calls get the same), its code cache kept for saving. */
function runCodeCached(specifier: string, variant?: string): CodeCachedBundle<unknown> {
  let bundle = codeCached.get(specifier);
  if (bundle === undefined) {
    bundle = loadCodeCachedBundle(new URL(specifier, import.meta.url), process.env, importModule, variant);
    codeCached.set(specifier, bundle);
  }
  return bundle;
}

/**
 * V8's on-disk code cache, on before the first import: main, core, the engines and backends then skip
 * recompiling on every run (a cosign-like CLI is started once per file it signs). A hot command's plain run
 * imports nothing, and does not set it up.
 */
let compileCacheOn = false;
function withCompileCache(): void {
  if (compileCacheOn) return;
  compileCacheOn = true;
  enableCompileCache(process.env);
}

function importSplitMain(): Promise<typeof import('../main.js')> {
  withCompileCache();
  return import('../main.js');
}

/**
 * A keyless `sign-blob` or `verify-blob` (no --key) and a keyed one run different halves of the bundle: each
 * keeps a code cache of its own, or whichever ran first would leave the other compiling its functions on
 * every run. A guess from argv alone (a configured default key signs without --key): a wrong one costs time,
 * never correctness.
 */
function pathOf(command: string | undefined, argv: readonly string[]): string | undefined {
  if (!HOT_COMMANDS.has(command)) return undefined;
  return argv.some((arg) => arg === '--key' || arg.startsWith('--key=')) ? undefined : 'keyless';
}

function commandOf(argv: readonly string[]): string | undefined {
  try {
    return parseGlobals(argv).rest[0];
  } catch {
    return undefined;
  }
}

/** Runs `then` on process[name] once Node's lazy getter has built it (at once if it is not a getter). */
function onFirstBuild(name: 'stdout' | 'stderr', then: (stream: NodeJS.WriteStream) => void): void {
  const original = Object.getOwnPropertyDescriptor(process, name);
  const build = original?.get;
  if (!build || !original.configurable) {
    then(process[name]);
    return;
  }
  let seen = false;
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: original.enumerable,
    get() {
      const stream = build.call(process) as NodeJS.WriteStream;
      if (!seen) {
        seen = true;
        then(stream);
      }
      return stream;
    },
  });
}
