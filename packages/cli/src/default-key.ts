import { dirname, resolve } from 'node:path';
import {
  findProjectConfig,
  parseKeyRef,
  readConfigFile,
  updateConfigFile,
  userConfigPath,
  type BackendRegistry,
} from '@cosignkit/core';

/** A config file that names a default key, and the directory its relative key paths are read from. */
export interface DefaultKeySource {
  path: string;
  defaultKey: string;
  /** The project file's directory; for the user file, the working directory (set-default stores absolute paths). */
  base: string;
}

/** The config files (user, then project) that set `defaultKey`, as they are on disk. */
export async function defaultKeySources(cwd: string, env: NodeJS.ProcessEnv): Promise<DefaultKeySource[]> {
  const sources: DefaultKeySource[] = [];
  const user = userConfigPath(env);
  const userKey = (await readConfigFile(user))?.defaultKey;
  if (userKey) sources.push({ path: user, defaultKey: userKey, base: cwd });
  const project = await findProjectConfig(cwd);
  const projectKey = project ? (await readConfigFile(project))?.defaultKey : undefined;
  if (project && projectKey) sources.push({ path: project, defaultKey: projectKey, base: dirname(project) });
  return sources;
}

/**
 * A comparable identity for a key reference: two spellings of one key (`release` and `./release.key`,
 * `keyring:release` and `keyring:cosignkit/release`, a PKCS#11 URI with or without `?module-path=`) agree.
 * The backend says what names its store and its key; file paths are made absolute against `base`.
 */
export async function keyIdentity(registry: BackendRegistry, text: string, base: string): Promise<string> {
  const ref = parseKeyRef(text);
  if (ref.scheme === 'file') {
    const path = resolve(base, ref.path).replace(/\.key$/, '');
    return `file\0${path}`;
  }
  try {
    const backend = await registry.backendFor(ref.scheme);
    return `${ref.scheme}\0${backend.storeIdOf?.(ref) ?? ''}\0${backend.keyIdOf(ref)}`;
  } catch {
    // A backend that is not installed cannot tell: compare what stands before the query.
    return `${ref.scheme}\0${ref.path}`;
  }
}

/** Removes `defaultKey` from every config file where it names `key`; returns those files. */
export async function clearDefaultKey(
  registry: BackendRegistry,
  key: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<string[]> {
  const target = await keyIdentity(registry, key, cwd);
  const cleared: string[] = [];
  for (const source of await defaultKeySources(cwd, env)) {
    if ((await keyIdentity(registry, source.defaultKey, source.base).catch(() => '')) !== target) continue;
    const shared = source.path !== userConfigPath(env);
    await updateConfigFile(
      source.path,
      (config) => {
        const { defaultKey: _dropped, ...rest } = config;
        return rest;
      },
      { shared },
    );
    cleared.push(source.path);
  }
  return cleared;
}
