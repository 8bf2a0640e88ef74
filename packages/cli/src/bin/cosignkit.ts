// The entry loads only what starting scrypt needs (a few node: modules and the prestart): everything else is
// imported below, after scrypt is running on the thread pool (issue 19).
import { enableCompileCache } from '@cosignkit/core/compile-cache';
import { startEarlyKeyDerivation } from './early-key-derivation.js';

/** The commands main runs from ./blob-main.js, a bundle of its own that holds no other command. */
const BLOB_COMMANDS: ReadonlySet<string | undefined> = new Set(['sign-blob', 'verify-blob']);

// First of all: scrypt for a signing command's key file runs on the thread pool while the rest loads.
startEarlyKeyDerivation(process.argv.slice(2), process.env);

// V8's on-disk code cache: main, core, the engines and backends load after this line and skip recompiling
// on every run (a cosign-like CLI is started once per file it signs).
enableCompileCache(process.env);

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

// `sign-blob` and `verify-blob` (the one-shot commands run once per file) from their own one-file bundle,
// every other command from the split build. The same global flags decide as in main itself; a line they
// refuse goes to the split build, whose main reports it.
const { parseGlobals } = await import('../global-flags.js');
const { main } = BLOB_COMMANDS.has(commandOf(process.argv.slice(2)))
  ? await import('./blob-main.js')
  : await import('../main.js');

// The only place that decides the process's exit status; nothing calls process.exit.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // main() reports every error itself; this is the last resort should reporting fail.
    process.stderr.write(`cosignkit: ${error instanceof Error ? error.message : String(error)} [INTERNAL]\n`);
    process.exitCode = 1;
  },
);

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
