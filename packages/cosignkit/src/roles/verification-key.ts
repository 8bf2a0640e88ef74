import { createPublicKey, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CosignkitError, toCosignkitError } from '@cosignkit/core';
import type { KeyOpener } from '@cosignkit/core';
import { parseKeyRef, redactKeyRef } from '@cosignkit/core';
import { publicKeyPem } from '@cosignkit/core';

const PEM_PUBLIC_KEY = '-----BEGIN PUBLIC KEY-----';
const MAX_PEM = 64 * 1024;

export interface VerificationKey {
  publicKey: KeyObject;
  /** The PEM file the user named, when the key came from one. */
  pemPath?: string;
}

/** `--key` for verification: a PEM public key file, or any key reference (its public key, through the key opener). */
export async function resolveVerificationKey(text: string, keys: KeyOpener): Promise<VerificationKey> {
  const ref = parseKeyRef(text);
  if (ref.scheme === 'file') {
    const pem = await readPemIfPublicKey(ref.path);
    if (pem !== undefined) {
      try {
        return { publicKey: createPublicKey(pem), pemPath: ref.path };
      } catch (error) {
        throw new CosignkitError('KEY_MALFORMED', `${ref.path} is not a valid public key`, { cause: error });
      }
    }
  }
  const opened = await keys.open(ref);
  try {
    return { publicKey: await opened.manager.getPublicKey(opened.keyId) };
  } catch (error) {
    const wrapped = toCosignkitError(error, 'BACKEND_FAILURE');
    if (wrapped !== error) wrapped.message = `cannot read the public key of ${redactKeyRef(ref.text)}: ${wrapped.message}`;
    throw wrapped;
  }
}

/** The PEM text when `path` is a public key file; undefined for other files (a private key: the registry's). */
async function readPemIfPublicKey(path: string): Promise<string | undefined> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CosignkitError('KEY_NOT_FOUND', `${path}: no such key file`, { cause: error });
    }
    throw new CosignkitError('IO', `${path}: ${(error as Error).message}`, { cause: error });
  }
  if (!info.isFile()) throw new CosignkitError('NOT_A_FILE', `${path} is not a regular file`);
  if (info.size > MAX_PEM) return undefined;
  const text = await readFile(path, 'utf8');
  return text.trimStart().startsWith(PEM_PUBLIC_KEY) ? text : undefined;
}

/** A PEM file of the key for cosign's `--key`, in a private temp dir; `cleanup` removes it. */
export async function temporaryPemFile(publicKey: KeyObject): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cosignkit-'));
  const path = join(dir, 'key.pub');
  await writeFile(path, publicKeyPem(publicKey), { mode: 0o600 });
  return { path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
