import { CosignkitError, parseKeyRef, redactKeyRef, type KeyRef, type OpenedKey } from '@cosignkit/core';
import type { CosignRunner } from '@cosignkit/core';
import type { engineChooser } from './engine-choice.js';
import type { RoleOptions } from './role-options.js';

/** The key used and its backend, as results report them (the reference redacted). */
export function keyProvenance(key: SigningKey): { key: string; keyBackend: string } {
  return { key: redactKeyRef(key.ref.text), keyBackend: key.ref.scheme };
}

/** A signing key resolved, with the engine that will use it. */
export type SigningKey =
  | { engine: 'native'; ref: KeyRef; open(): Promise<OpenedKey> }
  | { engine: 'cosign'; ref: KeyRef; runner: CosignRunner; cosignKey(): Promise<{ key: string; password?: string }> };

/**
 * The one place that turns `--key` (or the default key) into a key and an engine, for every role method that
 * signs. A reference with an inline PIN never reaches cosign's argv: it stays native, and --engine cosign
 * refuses it. Other backends reach cosign through the KMS plugin (`cosignkit://…`); file keys directly, their
 * password through the environment.
 */
export async function resolveSigningKey(
  options: RoleOptions,
  choose: ReturnType<typeof engineChooser>,
  key: string | undefined,
  /** Why the cosign engine cannot do this operation, if it cannot: auto then signs natively, cosign refuses. */
  cosignCannot?: string,
): Promise<SigningKey> {
  const text = key ?? (await defaultOrFallback(options));
  if (!text) throw new CosignkitError('USAGE', 'no key: pass --key or set a default key');
  const ref = parseKeyRef(text);
  const inlineSecret = redactKeyRef(ref.text) !== ref.text;
  if (inlineSecret && options.engine === 'cosign') {
    throw new CosignkitError(
      'USAGE',
      `${redactKeyRef(ref.text)} holds an inline PIN, which cannot be handed to cosign: use pin-source or COSIGN_PKCS11_PIN`,
    );
  }
  if (cosignCannot !== undefined && options.engine === 'cosign')
    throw new CosignkitError('NOT_SUPPORTED', cosignCannot);
  const native = inlineSecret || cosignCannot !== undefined;
  const selection = native ? ({ engine: 'native' } as const) : await choose(ref.scheme !== 'file');
  if (selection.engine === 'native') return { engine: 'native', ref, open: () => options.keys.open(ref) };
  return {
    engine: 'cosign',
    ref,
    runner: selection.runner,
    async cosignKey() {
      if (ref.scheme !== 'file') return { key: `cosignkit://${ref.text}` };
      const password = await options.keys.secret({
        kind: 'password',
        purpose: 'unlock',
        subject: redactKeyRef(ref.text),
      });
      return { key: ref.path, password };
    },
  };
}

/** Why a backend cannot be used at all (as opposed to a wrong key, PIN or password, which never fall back). */
const UNAVAILABLE = new Set(['BACKEND_UNAVAILABLE', 'BACKEND_NOT_INSTALLED', 'TOKEN_NOT_FOUND']);

/**
 * The configured default key, or the fallback key when the default key's backend cannot be reached (seed
 * 001 §7, made safe): only for operations that name no key, only on "unavailable" errors, and always with a
 * warning naming both backends. The default key is probed by reading its public key, which needs the device
 * but no PIN; a key file is always available and never probed.
 */
async function defaultOrFallback(options: RoleOptions): Promise<string | undefined> {
  const preferred = options.defaultKey;
  const fallback = options.fallbackKey;
  if (!preferred || !fallback || fallback === preferred) return preferred;
  const ref = parseKeyRef(preferred);
  if (ref.scheme === 'file') return preferred;
  try {
    const opened = await options.keys.open(ref);
    await opened.manager.getPublicKey(opened.keyId);
    return preferred;
  } catch (error) {
    if (!CosignkitError.isInstance(error) || !UNAVAILABLE.has(error.code)) throw error;
    const backup = parseKeyRef(fallback);
    options.logger?.warn(
      `the default key ${redactKeyRef(preferred)} is unavailable (${error.code}): signing with the fallback key ${redactKeyRef(fallback)} (${backup.scheme} backend), whose protection is lower than the ${ref.scheme} backend's`,
    );
    return fallback;
  }
}
