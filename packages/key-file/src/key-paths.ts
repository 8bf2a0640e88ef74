import { statPath } from './stat-path.js';
import { basename, join } from 'node:path';
import { CosignkitError, parseKeyRef } from '@cosignkit/core';

export const KEY_EXTENSION = '.key';
export const PUBLIC_EXTENSION = '.pub';

export interface KeyPaths {
  id: string;
  keyPath: string;
  /** The public key beside the private one, when the naming convention gives one. */
  pubPath?: string;
}

/** The id of a key file: its base name without `.key` (`keys/release.key` → `release`). */
export function keyIdOfPath(path: string): string {
  const base = basename(path);
  return base.endsWith(KEY_EXTENSION) && base.length > KEY_EXTENSION.length
    ? base.slice(0, -KEY_EXTENSION.length)
    : base;
}

/** Refuses ids that would leave the store directory. */
export function checkKeyId(id: string): string {
  const bare = keyIdOfPath(id);
  if (bare === '' || bare === '.' || bare === '..' || bare !== id.replace(/\.key$/, '') || /[/\\\0]/.test(id)) {
    throw new CosignkitError('USAGE', `"${id}" is not a key id: use a file name without directories`);
  }
  return bare;
}

/** `<dir>/<id>.key` + `<dir>/<id>.pub` (cosign's convention). */
export function conventionalPaths(dir: string, id: string): KeyPaths {
  const bare = checkKeyId(id);
  return { id: bare, keyPath: join(dir, `${bare}${KEY_EXTENSION}`), pubPath: join(dir, `${bare}${PUBLIC_EXTENSION}`) };
}

/**
 * Where the key named `id` lives. cosign takes any file name after `--key` (`signing-key.pem`), so when
 * `<id>.key` does not exist but a file named `<id>` does, that file is the key (and has no known `.pub`).
 */
export async function resolveKeyPaths(dir: string, id: string): Promise<KeyPaths> {
  const paths = conventionalPaths(dir, id);
  if (await isFile(paths.keyPath)) return paths;
  const bare = join(dir, paths.id);
  if (!paths.id.endsWith(KEY_EXTENSION) && (await isFile(bare))) return { id: paths.id, keyPath: bare };
  throw new CosignkitError('KEY_NOT_FOUND', `no key "${paths.id}" in ${dir} (${paths.keyPath} does not exist)`);
}

/** A reference that opens the key file again; `file:` only when the bare path would read as another scheme. */
export function keyRefOf(keyPath: string): string {
  const parsed = parseKeyRef(keyPath);
  return parsed.scheme === 'file' && parsed.path === keyPath ? keyPath : `file:${keyPath}`;
}

export async function isFile(path: string): Promise<boolean> {
  try {
    return (await statPath(path)).isFile();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') {
      return false;
    }
    throw new CosignkitError('IO', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}
