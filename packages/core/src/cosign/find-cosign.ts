import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { CosignkitError } from '../errors.js';

/** The two argv grammars: v3 changed the defaults of `--new-bundle-format` and `--use-signing-config`. */
export type CosignGrammar = 'v2' | 'v3';

export interface CosignInfo {
  path: string;
  /** What `cosign version --json` says (`v2.5.0`, or `devel` for distribution builds). */
  version: string;
  grammar: CosignGrammar;
}

export interface FindCosignOptions {
  /** An explicit binary; otherwise `COSIGN_PATH`, then `cosign` on `PATH`. */
  cosignPath?: string;
  env?: Readonly<Record<string, string | undefined>>;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The first executable named `name` on the PATH of `env`, or undefined. Cheap: no process is started. */
export async function findOnPath(name: string, env: Env = process.env): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** Where cosign would be run from, without running it; undefined when there is none. */
export async function locateCosign(options: FindCosignOptions = {}): Promise<string | undefined> {
  const env = options.env ?? process.env;
  const explicit = options.cosignPath ?? env.COSIGN_PATH;
  if (explicit) {
    const path = isAbsolute(explicit) || explicit.includes('/') ? resolve(explicit) : await findOnPath(explicit, env);
    return path && isExecutableFile(path) ? path : undefined;
  }
  return findOnPath('cosign', env);
}

const probes = new Map<string, Promise<CosignInfo>>();

/**
 * Finds cosign and learns its grammar: from `cosign version --json` when it names a release, else (the
 * Debian build says `devel`) from whether `sign-blob --help` shows `--new-bundle-format` defaulting to true.
 * COSIGN_NOT_FOUND when there is none, COSIGN_UNSUPPORTED for a cosign older than the blob bundle flags.
 * Probes are cached per binary for the life of the process.
 */
export async function findCosign(options: FindCosignOptions = {}): Promise<CosignInfo> {
  const path = await locateCosign(options);
  if (!path) {
    const explicit = options.cosignPath ?? (options.env ?? process.env).COSIGN_PATH;
    throw new CosignkitError(
      'COSIGN_NOT_FOUND',
      explicit ? `cosign not found at ${explicit}` : 'cosign not found: install it, put it on PATH or set COSIGN_PATH',
    );
  }
  let probe = probes.get(path);
  if (!probe) {
    probe = probeCosign(path, options.env ?? process.env);
    probes.set(path, probe);
    probe.catch(() => probes.delete(path));
  }
  return probe;
}

async function probeCosign(path: string, env: Env): Promise<CosignInfo> {
  const { execa } = await import('execa');
  const run = (args: string[]) =>
    execa(path, args, { env: { ...env }, extendEnv: false, stdin: 'ignore', reject: false, timeout: 30_000 });
  // Both at once: the help text is needed whenever the version is not a release number.
  const [versionOut, helpOut] = await Promise.all([run(['version', '--json']), run(['sign-blob', '--help'])]);
  if (versionOut.failed && versionOut.exitCode === undefined) {
    throw new CosignkitError(
      'COSIGN_NOT_FOUND',
      `cannot run ${path}: ${versionOut.shortMessage ?? 'failed to start'}`,
      { cause: versionOut },
    );
  }
  let version = 'unknown';
  try {
    const parsed = JSON.parse(String(versionOut.stdout)) as { gitVersion?: string; GitVersion?: string };
    version = parsed.gitVersion ?? parsed.GitVersion ?? version;
  } catch {
    // Older builds print text; the help probe below decides.
  }
  const help = `${String(helpOut.stdout)}\n${String(helpOut.stderr)}`;
  const release = /^v?(\d+)\.(\d+)/.exec(version);
  if (release) {
    const major = Number(release[1]);
    if (major >= 3) return { path, version, grammar: 'v3' };
    if (major === 2 && help.includes('--new-bundle-format')) return { path, version, grammar: 'v2' };
    throw new CosignkitError('COSIGN_UNSUPPORTED', `cosign ${version} is too old: cosignkit needs cosign 2.4 or newer`);
  }
  if (/--new-bundle-format=true/.test(help)) return { path, version, grammar: 'v3' };
  if (help.includes('--new-bundle-format')) return { path, version, grammar: 'v2' };
  throw new CosignkitError(
    'COSIGN_UNSUPPORTED',
    `cosign at ${path} (version ${version}) lacks --new-bundle-format: cosignkit needs cosign 2.4 or newer`,
  );
}

/**
 * Plain calls, as a shell's PATH search makes them: a search is a stat per PATH entry, each a few
 * microseconds, where a thread-pool round trip per call cost a keyless sign-blob ~2 ms (issue 14).
 */
function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path, { throwIfNoEntry: false })?.isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
