import type { KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CosignkitError,
  firstPemLabel,
  parseKeyRef,
  parsePublicKeyPem,
  publicKeyPem,
  readPublicKeyText,
  redactKeyRef,
  toCosignkitError,
  type KeyOpener,
} from '@cosignkit/core';

export interface VerificationKey {
  publicKey: KeyObject;
  /** The PEM file the user named, when the key came from one. */
  pemPath?: string;
}

/** `--key` for verification: a PEM public key file, or any key reference (its public key, through the key opener). */
export async function resolveVerificationKey(text: string, keys: KeyOpener): Promise<VerificationKey> {
  const ref = parseKeyRef(text);
  if (ref.scheme === 'file') {
    const text = await readKeyFileText(ref.path);
    // A private key file is the registry's to open (it may ask for a password); anything else must be a
    // public key, and is refused as malformed rather than sent to a backend that would ask for a password.
    if (!firstPemLabel(text)?.includes('PRIVATE KEY')) {
      return { publicKey: parsePublicKeyPem(text, ref.path), pemPath: ref.path };
    }
  }
  const opened = await keys.open(ref);
  try {
    return { publicKey: await opened.manager.getPublicKey(opened.keyId) };
  } catch (error) {
    const wrapped = toCosignkitError(error, 'BACKEND_FAILURE');
    if (wrapped !== error)
      wrapped.message = `cannot read the public key of ${redactKeyRef(ref.text)}: ${wrapped.message}`;
    throw wrapped;
  }
}

async function readKeyFileText(path: string): Promise<string> {
  try {
    return await readPublicKeyText(path);
  } catch (error) {
    if (CosignkitError.isInstance(error) && error.code === 'FILE_NOT_FOUND') {
      throw new CosignkitError('KEY_NOT_FOUND', `${path}: no such key file`, { cause: error });
    }
    throw error;
  }
}

/** A PEM file of the key for cosign's `--key`, in a private temp dir; `cleanup` removes it. */
export async function temporaryPemFile(publicKey: KeyObject): Promise<{ path: string; cleanup: () => Promise<void> }> {
  // node:os here, not at the top: every verify-blob loads this module, few take this path.
  const dir = await mkdtemp(join(process.getBuiltinModule('node:os').tmpdir(), 'cosignkit-'));
  const path = join(dir, 'key.pub');
  await writeFile(path, publicKeyPem(publicKey), { mode: 0o600 });
  return { path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
