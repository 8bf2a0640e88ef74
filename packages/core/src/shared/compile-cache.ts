// `@cosignkit/core/compile-cache`: what a one-shot bin (the CLI, the KMS plugin) uses before it loads anything
// else, bundled into it: Node's compile cache and the code-cached bundles, in a cache directory private to the
// user, and the small reads that feed them.
import { privateCacheDir } from './private-cache-dir.js';

export { type CodeCachedBundle, loadCodeCachedBundle } from './code-cached-bundle.js';
export { privateCacheDir } from './private-cache-dir.js';
export { readSmallRegularFile } from './small-regular-file.js';

/**
 * Turns on V8's on-disk code cache for the rest of the process (issue 19): the CLI and the KMS plugin are
 * started once per file or per cosign operation, and the cache saves compiling their bundles on every start. Node's default directory is one shared
 * `$TMPDIR/node-compile-cache`; whoever can write there can plant code this process would run, so the cache
 * lives in a directory of this user's own, `${XDG_CACHE_HOME:-~/.cache}/cosignkit/node-compile-cache` (0700),
 * and stays off when that directory is not private to this user, or when there is no cache directory at all.
 * NODE_COMPILE_CACHE (chosen by the user) and NODE_DISABLE_COMPILE_CACHE are Node's own and win.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv): void {
  // node:module here, not at the top: the CLI's hot commands never turn Node's cache on, and loading it is
  // start-up time (issue 19).
  const module = process.getBuiltinModule('node:module');
  if (typeof module.enableCompileCache !== 'function') return;
  if (env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return; // Node applied (or refused) it already.
  const dir = privateCacheDir(env, 'node-compile-cache');
  if (dir === undefined) return;
  try {
    module.enableCompileCache(dir);
  } catch {
    // No cache only costs start-up time.
  }
}
