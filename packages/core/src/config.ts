import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CosignkitError } from './errors.js';
import { escapeForTerminal } from './text/escape-for-terminal.js';

/**
 * The config files: the user's (`$XDG_CONFIG_HOME/cosignkit/config.json`) and the project's
 * (`cosignkit.config.json` in the working directory or a parent). The project's values win.
 */
export interface CosignkitConfig {
  /** The key used when a command gets no `--key` (`cosignkit key set-default`). */
  defaultKey?: string;
  /**
   * A key used in place of `defaultKey` only when the default key's backend cannot be reached (a missing
   * token or module, no TPM): seed 001's fallback, never silent (a warning names the lower protection).
   */
  fallbackKey?: string;
  /**
   * Options per backend name, and third-party backends: `"vault": "cosignkit-key-vault"` or
   * `"vault": { "package": "cosignkit-key-vault", …options }`.
   */
  backends?: Record<string, string | ({ package?: string } & Record<string, unknown>)>;
  /** The agent and the KMS plugin (COSIGNKIT_AGENT_AUTOSTART, COSIGNKIT_AGENT_TIMEOUT, COSIGNKIT_AGENT_LOG_LEVEL win). */
  agent?: {
    /** The plugin starts the agent on its first call when none runs (default true). */
    autostart?: boolean;
    /** How long a client waits for the agent's answer to one operation, e.g. `30s` (default 60s). */
    timeout?: string;
    /** The agent's log: `debug`, `info` (default) or `warn`. */
    logLevel?: 'debug' | 'info' | 'warn';
  };
}

export const PROJECT_CONFIG_FILE = 'cosignkit.config.json';

/** A config file is a few hundred bytes; anything past this is not one, and is not read. */
const MAX_CONFIG_BYTES = 1024 * 1024;

export function userConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  // node:os only when HOME is unset: loading it costs a one-shot command start-up time for nothing.
  const base = env.XDG_CONFIG_HOME || join(env.HOME || process.getBuiltinModule('node:os').homedir(), '.config');
  return join(base, 'cosignkit', 'config.json');
}

export async function findProjectConfig(cwd: string = process.cwd()): Promise<string | undefined> {
  return findProjectConfigSync(cwd)?.path;
}

function findProjectConfigSync(cwd: string = process.cwd()): { path: string; config: CosignkitConfig } | undefined {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const path = join(dir, PROJECT_CONFIG_FILE);
    const config = readJson(path);
    if (config !== undefined) return { path, config };
    if (dirname(dir) === dir) return undefined;
  }
}

export async function loadConfig(options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CosignkitConfig> {
  return loadConfigSync(options);
}

/**
 * loadConfig without a promise: the files are a few hundred bytes read with plain syscalls (readConfigText),
 * so a caller can read them when first needed, e.g. from a getter (the CLI: a command that needs no default
 * key, backend options or agent settings reads no config file at all).
 */
export function loadConfigSync(options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CosignkitConfig {
  const user = readJson(userConfigPath(options.env)) ?? {};
  const project = findProjectConfigSync(options.cwd)?.config ?? {};
  return mergeConfig(user, project);
}

export function mergeConfig(base: CosignkitConfig, over: CosignkitConfig): CosignkitConfig {
  const backends: NonNullable<CosignkitConfig['backends']> = { ...base.backends };
  for (const [name, value] of Object.entries(over.backends ?? {})) {
    const prior = backends[name];
    backends[name] = mergeBackend(prior, value);
  }
  return { ...base, ...over, backends };
}

type BackendEntry = NonNullable<CosignkitConfig['backends']>[string];

/** A package name (string) and an options object for the same backend combine; neither file loses its part. */
function mergeBackend(prior: BackendEntry | undefined, value: BackendEntry): BackendEntry {
  if (prior === undefined) return value;
  const asObject = (entry: BackendEntry) => (typeof entry === 'string' ? { package: entry } : entry);
  if (typeof prior === 'string' && typeof value === 'string') return value;
  return { ...asObject(prior), ...asObject(value) };
}

/** Changes the user config file atomically (temp file, then rename). */
export async function updateUserConfig(
  change: (config: CosignkitConfig) => CosignkitConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  return updateConfigFile(userConfigPath(env), change);
}

/**
 * Changes one config file atomically (temp file, then rename). The user's file is 0600 in a 0700 directory
 * (it is nobody else's business); a project's file is meant to be committed and shared, so 0644 less umask.
 */
export async function updateConfigFile(
  path: string,
  change: (config: CosignkitConfig) => CosignkitConfig,
  options: { shared?: boolean } = {},
): Promise<string> {
  const next = change(readJson(path) ?? {});
  if (!options.shared) await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(next, null, 2)}\n`, { mode: options.shared ? 0o644 : 0o600 });
  await rename(temp, path);
  return path;
}

/** One config file as it is on disk (not merged); undefined when there is none. */
export async function readConfigFile(path: string): Promise<CosignkitConfig | undefined> {
  return readJson(path);
}

function readJson(path: string): CosignkitConfig | undefined {
  const text = readConfigText(path);
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as CosignkitConfig;
  } catch (error) {
    // JSON.parse quotes the text it stopped at, which may hold control characters.
    throw new CosignkitError(
      'USAGE',
      escapeForTerminal(`config file ${path} is not valid: ${(error as Error).message}`),
      {
        cause: error,
      },
    );
  }
}

/**
 * The file's text, read with plain syscalls: every command reads the config files first, from the working
 * directory up to the root, and a thread-pool round trip per candidate (or node:fs/promises, which loads
 * readline with it) is start-up time a one-shot command pays each run. Checked on the open descriptor, so
 * nothing can swap the file between the check and the read: a regular file (O_NONBLOCK: a FIFO planted
 * under the name cannot hang the open) of at most MAX_CONFIG_BYTES.
 */
function readConfigText(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CosignkitError('IO', `cannot read config file ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new CosignkitError('IO', `cannot read config file ${path}: not a regular file`);
    if (info.size > MAX_CONFIG_BYTES) {
      throw new CosignkitError('IO', `cannot read config file ${path}: larger than ${MAX_CONFIG_BYTES} bytes`);
    }
    // One byte more than the size: a file that grew since the fstat is refused, not cut short.
    const buffer = Buffer.alloc(info.size + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > info.size) throw new CosignkitError('IO', `cannot read config file ${path}: it changed while read`);
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    if (error instanceof CosignkitError) throw error;
    throw new CosignkitError('IO', `cannot read config file ${path}: ${(error as Error).message}`, { cause: error });
  } finally {
    closeSync(fd);
  }
}
