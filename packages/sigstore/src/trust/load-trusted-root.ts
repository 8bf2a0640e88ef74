import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger, type Logger } from '@cosignkit/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { parseJsonText, readLimitedFile } from '../io/read-limited-file.js';
import { PUBLIC_GOOD_TUF_URL, STAGING_TUF_URL, embeddedTrustedRoot } from './embedded-root.js';
import { parseTrustedRoot } from './parse-trusted-root.js';
import { describeOrigin, type LoadedTrustedRoot, type SigstoreInstance } from './trusted-root-source.js';

/** Trusted roots are a few KiB; anything near this is not one. */
export const TRUSTED_ROOT_SIZE_LIMIT = 4 * 1024 * 1024;

export interface LoadTrustedRootOptions {
  /** `--trusted-root FILE`: a TrustedRoot or a ClientTrustConfig. Wins over everything else; no network. */
  trustedRootPath?: string;
  /** `--staging`: the sigstage.dev instance instead of public good. */
  staging?: boolean;
  /** `--offline`: never touch the network; the cached root if one is there, else the embedded one. */
  offline?: boolean;
  /** Environment for XDG_CACHE_HOME / HOME (default process.env). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** TUF fetch timeout (default 5 s): an unreachable repository must not hang a verification for long. */
  timeoutMs?: number;
  /** The TUF refresh; injectable so the fallback can be tested without a network. */
  refresh?: (instance: SigstoreInstance, cachePath: string, timeoutMs: number) => Promise<TrustedRoot>;
}

/** `$XDG_CACHE_HOME/cosignkit` (else `~/.cache/cosignkit`): TUF metadata and the last good trusted root. */
export function cosignkitCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && xdg !== '') return join(xdg, 'cosignkit');
  // node:os only without HOME: loading it is a third of a millisecond of a one-shot keyless verify-blob.
  return join(env.HOME ?? process.getBuiltinModule('node:os').homedir(), '.cache', 'cosignkit');
}

/**
 * The trusted root for keyless verification: a file if given; else (online) a TUF refresh of the instance's
 * repository, cached; else the cached root from the last refresh; else the embedded root. Falling back is
 * logged as a warning (verification then trusts possibly stale keys); `--offline` falls back silently but
 * still says which root it used at info level.
 */
export async function loadTrustedRoot(options: LoadTrustedRootOptions = {}): Promise<LoadedTrustedRoot> {
  const logger = options.logger ?? silentLogger;
  if (options.trustedRootPath !== undefined) {
    const path = options.trustedRootPath;
    const text = await readLimitedFile(path, TRUSTED_ROOT_SIZE_LIMIT, 'trusted root');
    const { root, format } = parseTrustedRoot(parseJsonText(text, `trusted root ${path}`), `trusted root ${path}`);
    return done({ root, origin: { kind: 'file', path, format } }, logger);
  }
  const instance: SigstoreInstance = options.staging ? 'staging' : 'public-good';
  const cacheDir = cosignkitCacheDir(options.env);
  const cachedPath = join(cacheDir, `${instance}-trusted_root.json`);
  if (!options.offline) {
    const tufCache = join(cacheDir, 'tuf');
    try {
      const refresh = options.refresh ?? tufRefresh;
      const root = await refresh(instance, tufCache, options.timeoutMs ?? 5000);
      await saveCachedRoot(cachedPath, root).catch((error: unknown) =>
        logger.warn(`cannot cache the trusted root at ${cachedPath}: ${(error as Error).message}`),
      );
      return done({ root, origin: { kind: 'tuf', instance, cachePath: tufCache } }, logger);
    } catch (error) {
      const fallback = (await readCachedRoot(cachedPath, instance)) ?? embeddedTrustedRoot(instance);
      logger.warn(
        `TUF refresh of the ${instance} root failed (${oneLine(error)}); using the ${describeOrigin(fallback.origin)}`,
      );
      return done(fallback, logger);
    }
  }
  return done((await readCachedRoot(cachedPath, instance)) ?? embeddedTrustedRoot(instance), logger);
}

function done(loaded: LoadedTrustedRoot, logger: Logger): LoadedTrustedRoot {
  logger.info(`using the ${describeOrigin(loaded.origin)}`, { origin: loaded.origin });
  return loaded;
}

async function tufRefresh(instance: SigstoreInstance, cachePath: string, timeoutMs: number): Promise<TrustedRoot> {
  // Staging has no seed in @sigstore/tuf: its TUF root must already be in the cache (a prior `initTUF`).
  const { getTrustedRoot } = await import('@sigstore/tuf');
  return getTrustedRoot({
    mirrorURL: instance === 'staging' ? STAGING_TUF_URL : PUBLIC_GOOD_TUF_URL,
    cachePath,
    retry: false,
    timeout: timeoutMs,
  });
}

async function readCachedRoot(path: string, instance: SigstoreInstance): Promise<LoadedTrustedRoot | undefined> {
  try {
    const text = await readLimitedFile(path, TRUSTED_ROOT_SIZE_LIMIT, 'cached trusted root');
    return { root: parseTrustedRoot(parseJsonText(text, path), path).root, origin: { kind: 'cache', instance, path } };
  } catch {
    return undefined; // a missing or damaged cache is not an error: the embedded root follows
  }
}

async function saveCachedRoot(path: string, root: TrustedRoot): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(TrustedRoot.toJSON(root)), { mode: 0o644 });
  await rename(temp, path);
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.slice(0, 200);
}
