import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CosignkitError, redactKeyRef, type BackendContext, type KeyRef } from '@cosignkit/core';
import type { Pkcs11Uri } from './pkcs11-uri.js';

/** Where the PKCS#11 module comes from: the URI, then COSIGN_PKCS11_MODULE_PATH, then `backends.pkcs11.modulePath`. */
export function resolveModulePath(uri: Pkcs11Uri, ref: KeyRef, context: BackendContext): string {
  const configured = context.options.modulePath;
  const path =
    uri.modulePath ??
    context.env.COSIGN_PKCS11_MODULE_PATH ??
    (typeof configured === 'string' ? configured : undefined);
  if (path === undefined || path === '') {
    throw new CosignkitError(
      'USAGE',
      // `pkcs11:` alone (key list, key generate --backend) would read "for pkcs11::"; name the backend instead.
      `no PKCS#11 module for ${ref.path === '' && Object.keys(ref.query).length === 0 ? 'the pkcs11 backend' : redactKeyRef(ref.text)}; add module-path=… to the URI, set COSIGN_PKCS11_MODULE_PATH, ` +
        'or set backends.pkcs11.modulePath in the config file',
    );
  }
  return path;
}

/**
 * The user PIN, from (in order) `pin-value`, `pin-source`, COSIGN_PKCS11_PIN, `backends.pkcs11.pinSource`, and
 * last the caller's secret provider. The PIN is returned, never logged or put in a message.
 */
export async function resolvePin(uri: Pkcs11Uri, ref: KeyRef, context: BackendContext): Promise<string> {
  if (uri.pinValue !== undefined) return uri.pinValue;
  if (uri.pinSource !== undefined) return readPinSource(uri.pinSource, 'the pin-source of the URI');
  const fromEnv = context.env.COSIGN_PKCS11_PIN;
  if (fromEnv !== undefined) return fromEnv;
  const configured = context.options.pinSource;
  if (typeof configured === 'string' && configured !== '') {
    return readPinSource(configured, 'backends.pkcs11.pinSource in the config file');
  }
  return context.secrets({ kind: 'pin', purpose: 'unlock', subject: redactKeyRef(ref.text) });
}

/** RFC 7512 pin-source is a URI; cosign and p11-kit read it as a file. `file:…` and bare paths are accepted. */
export function pinSourcePath(source: string, where: string): string {
  if (source.startsWith('|')) {
    throw new CosignkitError(
      'NOT_SUPPORTED',
      `${where}: pin-source commands ("|…") are not supported; use file:<path>`,
    );
  }
  let path = source;
  if (/^file:\/\//i.test(source)) {
    try {
      path = fileURLToPath(source);
    } catch (error) {
      throw new CosignkitError('KEY_REF_INVALID', `${where}: ${source} is not a valid file URL`, { cause: error });
    }
  } else if (/^file:/i.test(source)) {
    path = source.slice('file:'.length);
  }
  if (path === '') throw new CosignkitError('KEY_REF_INVALID', `${where}: pin-source names no file`);
  return isAbsolute(path) ? path : resolve(path);
}

async function readPinSource(source: string, where: string): Promise<string> {
  const path = pinSourcePath(source, where);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'IO';
    throw new CosignkitError(
      code,
      `cannot read the PIN file ${path} (${where}): ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        cause: error,
      },
    );
  }
  // A PIN file usually ends with a newline that is not part of the PIN.
  return text.replace(/\r?\n$/, '');
}
