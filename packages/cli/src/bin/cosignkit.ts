// The entry loads only what starting scrypt needs (a few node: modules and the prestart): everything else is
// imported below, after scrypt is running on the thread pool (issue 19).
import { enableCompileCache } from '@cosignkit/core/compile-cache';
import { parseGlobals } from '../global-flags.js';
import { loadCodeCachedBundle } from './code-cached-bundle.js';
import { startEarlyKeyDerivation } from './early-key-derivation.js';

/** The commands run from a bundle of their own (./<command>-main.cjs, tsup.config.ts), which holds no other. */
const HOT_COMMANDS: ReadonlySet<string | undefined> = new Set(['sign-blob', 'verify-blob']);

// First of all: scrypt for a signing command's key file runs on the thread pool while the rest loads.
startEarlyKeyDerivation(process.argv.slice(2), process.env);

// A reader that goes away (`cosignkit --help | head -1`) is not an error worth a stack trace. The handler is
// added when Node first builds the stream: building both here would load node:stream on every run, while
// main writes its output straight to the descriptors (fd-output.ts) and most runs never build either.
for (const name of ['stdout', 'stderr'] as const) {
  onFirstBuild(name, (stream) =>
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    }),
  );
}

// `sign-blob` and `verify-blob` (the one-shot commands run once per file) each from a one-file bundle of its
// own, run with a code cache of what a run compiles (code-cached-bundle.ts); every other command from the split
// build. The same global flags decide as in main itself; a line they refuse goes to the split build, whose
// main reports it.
const command = commandOf(process.argv.slice(2));
const blob = HOT_COMMANDS.has(command)
  ? loadCodeCachedBundle<typeof import('./blob-main.js')>(
      new URL(`./${command}-main.cjs`, import.meta.url),
      process.env,
      (specifier) => {
        withCompileCache();
        return import(specifier);
      },
    )
  : undefined;

// The only place that decides the process's exit status; nothing calls process.exit.
(blob ? Promise.resolve(blob.exports) : importSplitMain())
  .then(({ main }) => main(process.argv.slice(2)))
  .then(
    (code) => {
      process.exitCode = code;
      // After a run that went as runs usually go: its cache then holds what such runs compile.
      if (code === 0) blob?.saveCodeCache();
    },
    (error: unknown) => {
      // main() reports every error itself; this is the last resort should reporting fail.
      process.stderr.write(`cosignkit: ${error instanceof Error ? error.message : String(error)} [INTERNAL]\n`);
      process.exitCode = 1;
    },
  );

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
