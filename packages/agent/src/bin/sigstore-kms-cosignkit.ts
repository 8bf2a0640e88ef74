import { type CodeCachedBundle, loadCodeCachedBundle } from '@cosignkit/core/compile-cache';
import { agentPaths } from '../paths.js';

// cosign starts the plugin for every operation (sign-blob: twice). The plugin proper is one CommonJS bundle
// beside this file (./plugin-main.cjs, tsup.config.ts), run with a V8 code cache made after a call that
// answered with a result, in a directory private to this user (core's code-cached-bundle.ts): every
// function a call runs is compiled once, not on every start, as Node's own compile cache would leave it.
// A call through the agent and one that does the work itself run different code: each keeps a cache of its
// own, chosen by whether the agent's socket is there (a wrong guess costs time, never correctness).
const plugin = loadPlugin();
plugin?.exports.main().then((answered) => {
  if (answered) plugin.saveCodeCache();
  endOnceFlushed(0);
});

function loadPlugin(): CodeCachedBundle<typeof import('./plugin-main.js')> | undefined {
  try {
    return loadCodeCachedBundle(
      new URL('./plugin-main.cjs', import.meta.url),
      process.env,
      (specifier) => import(specifier),
      agentSocketThere() ? 'agent' : 'direct',
    );
  } catch (error) {
    // An install without the bundle (or one that does not load): answered as the protocol wants, in one line.
    const why = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    process.stdout.write(
      `${JSON.stringify({ errorMessage: `cosignkit: the plugin cannot load: ${why} [INTERNAL]` })}\n`,
    );
    endOnceFlushed(1);
    return undefined;
  }
}

/**
 * Ends the call once stdout and stderr have flushed (a pipe to cosign is written asynchronously), not once
 * the event loop has drained, where V8's scheduled collection and the teardown of what the call opened cost a
 * few milliseconds of every call (issue 19): the answer is out.
 */
function endOnceFlushed(code: number): void {
  let writing = 2;
  const flushed = () => {
    if (--writing === 0) process.exit(code);
  };
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
}

function agentSocketThere(): boolean {
  if (process.env.COSIGNKIT_NO_AGENT === '1') return false;
  try {
    return process.getBuiltinModule('node:fs').existsSync(agentPaths(process.env).socket);
  } catch {
    return false;
  }
}
