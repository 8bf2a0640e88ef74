import { cacheDirPath, privateCacheDir } from './private-cache-dir.js';
import { readSmallRegularFile } from './small-regular-file.js';

// By process.getBuiltinModule, as everywhere a bin runs first: ESM facades would cost start-up time.
const { closeSync, constants, fstatSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } =
  process.getBuiltinModule('node:fs');
const { basename, dirname, join } = process.getBuiltinModule('node:path');
const { fileURLToPath } = process.getBuiltinModule('node:url');
const { Script } = process.getBuiltinModule('node:vm');

/** A code cache is a few hundred kilobytes; a file past this is not one of ours, and is not read. */
const MAX_CACHE_BYTES = 16 * 1024 * 1024;
/** The cache file starts with the identity of the bundle it was made from (identityOf). */
const IDENTITY_BYTES = 40;

export interface CodeCachedBundle<Exports> {
  exports: Exports;
  /** Writes the cache from what this run compiled, when there was none to use; never throws. */
  saveCodeCache(): void;
}

/**
 * Runs one of a bin's CommonJS bundles (the CLI's hot commands, the KMS plugin) with a V8 code cache made at
 * the end of a run (issue 19).
 *
 * Node's compile cache (`module.enableCompileCache`) is made when a file is compiled, before it runs, so it
 * holds the top-level code alone and every function a command calls is compiled again on each start. A
 * one-shot command (run once per file it signs or verifies, or per cosign operation) spends a fifth of its
 * time there. This cache is made after a successful run instead, one per bundle and Node version. It is
 * written only into a directory private to this user (`${XDG_CACHE_HOME:-~/.cache}/cosignkit/code-cache`,
 * 0700; none when it is not private), and used only from a file nobody but this user can have written.
 *
 * The bundle's `import()` calls are rewritten at build time to `__cosignkitImport(…)` (tsup.base.ts): code
 * run by vm.Script cannot import without an experimental flag, so the bin hands in its own import, which
 * resolves from the same directory as the bundle's own would.
 */
export function loadCodeCachedBundle<Exports>(
  bundle: URL,
  env: NodeJS.ProcessEnv,
  importModule: (specifier: string) => Promise<unknown>,
  /** Which of the bundle's paths this run takes, when they compile different code: a cache of its own each. */
  variant?: string,
): CodeCachedBundle<Exports> {
  const filename = fileURLToPath(bundle);
  // Identity and text from one descriptor: the cache is keyed to the very file that is compiled.
  const fd = openSync(filename, constants.O_RDONLY);
  let identity: Buffer;
  let source: string;
  try {
    identity = identityOf(fstatSync(fd, { bigint: true }));
    // The build emits ASCII alone (tsup.config.ts checks), so Latin-1 reads it without decoding UTF-8.
    source = readFileSync(fd, 'latin1');
  } finally {
    closeSync(fd);
  }
  const cacheName = `${basename(filename)}${variant ? `.${variant}` : ''}.${process.version}-${process.arch}`;
  // Read without checking the directories first: the file itself must be one only this user can have written
  // (readCache). The directories' own checks come before a write, which is rare.
  const dir = env.NODE_DISABLE_COMPILE_CACHE ? undefined : cacheDirPath(env, 'code-cache');
  const cached = dir === undefined ? undefined : readCache(join(dir, cacheName), identity);

  // The file is Node's CommonJS wrapper around the bundle, with the bin's import as one more parameter.
  const script = new Script(source, { filename, ...(cached ? { cachedData: cached } : {}) });
  const module = { exports: {} as Exports };
  script.runInThisContext()(module.exports, lazyRequire(filename), module, filename, dirname(filename), importModule);

  return {
    exports: module.exports,
    saveCodeCache() {
      if (dir === undefined || (cached && !script.cachedDataRejected)) return;
      const privateDir = privateCacheDir(env, 'code-cache');
      if (privateDir === undefined) return;
      writeCache(join(privateDir, cacheName), Buffer.concat([identity, script.createCachedData()]));
    },
  };
}

/**
 * The bundle's `require`: a built-in from process.getBuiltinModule (bundled CommonJS, sigstore-js's, requires
 * built-ins alone), anything else through a real require made on its first call (node:module is start-up
 * time a plain run need not pay).
 */
function lazyRequire(filename: string): (id: string) => unknown {
  let require: NodeJS.Require | undefined;
  return (id) => {
    const builtin = process.getBuiltinModule(id);
    if (builtin !== undefined) return builtin;
    require ??= process.getBuiltinModule('node:module').createRequire(filename);
    return require(id);
  };
}

/**
 * What tells one version of a file from another without reading it: device, inode, size, and the
 * modification and change times in nanoseconds (the change time moves on every write, and no user can set
 * it). V8 itself checks only the source's length.
 */
function identityOf(info: import('node:fs').BigIntStats): Buffer {
  const identity = Buffer.alloc(IDENTITY_BYTES);
  const fields = [info.dev, info.ino, info.size, info.mtimeNs, info.ctimeNs];
  for (let i = 0; i < fields.length; i++) identity.writeBigUInt64LE(BigInt.asUintN(64, fields[i]!), i * 8);
  return identity;
}

/**
 * The cache's V8 data when the file is a regular one of sane size that only this user can have written, made
 * from this very file.
 */
function readCache(path: string, identity: Buffer): Buffer | undefined {
  const data = readSmallRegularFile(path, MAX_CACHE_BYTES, true);
  if (data === undefined || data.length <= IDENTITY_BYTES || !data.subarray(0, IDENTITY_BYTES).equals(identity)) {
    return undefined;
  }
  return data.subarray(IDENTITY_BYTES);
}

/** Whole or not at all: a temp file of this process's own, then a rename over the old cache. */
function writeCache(path: string, data: Buffer): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      writeFileSync(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch {
    try {
      rmSync(temp, { force: true });
    } catch {
      // Nothing to undo.
    }
  }
}
