import { statPath } from './stat-path.js';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  CosignkitError,
  KEY_BACKEND_SPEC_VERSION,
  type BackendContext,
  type KeyBackend,
  type KeyRef,
} from '@cosignkit/core';
import { FileKeyManager } from './file-key-manager.js';
import { keyIdOfPath } from './key-paths.js';

/** The backend for cosign key files: `cosign.key`, `./keys/release.key`, `file:…`, `file:keys/` (a store). */
export function fileBackend(): KeyBackend {
  return {
    specVersion: KEY_BACKEND_SPEC_VERSION,
    name: 'file',
    schemes: ['file'],
    capabilities: {
      generate: true,
      delete: true,
      algorithms: ['ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'ed25519'],
      extractable: true,
    },
    async open(ref: KeyRef, context: BackendContext): Promise<FileKeyManager> {
      const { dir, id } = await storeOf(ref, context);
      return new FileKeyManager(dir, {
        secrets: context.secrets,
        logger: context.logger,
        ...(id ? { defaultId: id } : {}),
      });
    },
    keyIdOf(ref: KeyRef): string {
      return isStorePath(ref.path) ? '' : keyIdOfPath(ref.path);
    },
    // A FileKeyManager remembers the key its reference named, so each reference path is its own store.
    storeIdOf(ref: KeyRef): string {
      return ref.path === '' ? '' : resolve(ref.path);
    },
  };
}

export const backend: KeyBackend = fileBackend();

function isStorePath(path: string): boolean {
  return path === '' || path.endsWith('/') || path.endsWith('\\');
}

/** The directory a reference points into, and the key it names (none for a store reference). */
async function storeOf(ref: KeyRef, context: BackendContext): Promise<{ dir: string; id?: string }> {
  if (ref.path === '') {
    const configured = context.options.dir;
    if (configured !== undefined && typeof configured !== 'string') {
      throw new CosignkitError('USAGE', 'the file backend option "dir" must be a path');
    }
    return { dir: configured ?? process.cwd() };
  }
  if (isStorePath(ref.path)) return { dir: ref.path };
  if (await isDirectory(ref.path)) return { dir: ref.path };
  return { dir: dirname(ref.path), id: keyIdOfPath(ref.path) };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await statPath(isAbsolute(path) ? path : resolve(path))).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A path that does not exist yet names a key file to create, not a store.
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw new CosignkitError('IO', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}
