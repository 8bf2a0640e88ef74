// By process.getBuiltinModule: one-shot bins bundle this module and run it before anything else loads.
const { lstatSync, mkdirSync } = process.getBuiltinModule('node:fs');
const { join } = process.getBuiltinModule('node:path');

/**
 * `${XDG_CACHE_HOME:-~/.cache}/cosignkit/<name>`, made 0700 if missing, when it is a directory private to
 * this user; otherwise undefined (the caller then keeps no cache). Code caches hold code this process will
 * run, so whoever can write to the directory must be this user alone.
 */
export function privateCacheDir(env: NodeJS.ProcessEnv, name: string): string | undefined {
  try {
    const base = cacheBase(env);
    const dir = join(base, 'cosignkit', name);
    // Only inside a cache directory that exists already: a run creates nothing in a HOME without one (the
    // tests check that a failed command leaves nothing behind). One level at a time, never `recursive`:
    // Node's recursive mkdir loops forever under /proc (a HOME there).
    if (!lstatSync(base, { throwIfNoEntry: false })?.isDirectory()) return undefined;
    // Every run but the first finds the directory made: no mkdir failing with EEXIST then (a thrown error's
    // stack is start-up time too).
    const made = lstatSync(dir, { throwIfNoEntry: false });
    if (made) return isPrivateDir(made) ? dir : undefined;
    for (const level of [join(base, 'cosignkit'), dir]) makeDir(level);
    return isPrivateDir(lstatSync(dir)) ? dir : undefined;
  } catch {
    // A read-only home, say.
    return undefined;
  }
}

/**
 * Where privateCacheDir(env, name) is, without looking at the disk (undefined when there is no home to put it
 * in). For a read that checks the file itself instead (readSmallRegularFile's `ownOnly`): the two lstat calls
 * are start-up time a one-shot command would pay on every run (issue 19).
 */
export function cacheDirPath(env: NodeJS.ProcessEnv, name: string): string | undefined {
  try {
    return join(cacheBase(env), 'cosignkit', name);
  } catch {
    return undefined;
  }
}

function cacheBase(env: NodeJS.ProcessEnv): string {
  if (env.XDG_CACHE_HOME) return env.XDG_CACHE_HOME;
  if (process.platform === 'win32' && env.LOCALAPPDATA) return env.LOCALAPPDATA;
  // node:os only without HOME: loading it is start-up time most runs do not need.
  return join(env.HOME || process.getBuiltinModule('node:os').homedir(), '.cache');
}

function makeDir(path: string): void {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

function isPrivateDir(info: import('node:fs').Stats): boolean {
  if (!info.isDirectory()) return false;
  if (typeof process.getuid !== 'function') return true; // Windows: the user's profile directory.
  return info.uid === process.getuid() && (info.mode & 0o077) === 0;
}
