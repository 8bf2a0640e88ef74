import type { KeyObject } from 'node:crypto';
import {
  CosignkitError,
  escapeForTerminal,
  MAX_PUBLIC_KEY_FILE_BYTES,
  readBoundedResponse,
  readPublicKeyText,
  verifyPayload,
} from '@cosignkit/core';
import { isObject } from './envelope.js';
import { trustedKey, type TrustedKey } from './trusted-key.js';

/**
 * A key map is a JSON object naming trusted public keys: `{"<keyid>": "-----BEGIN PUBLIC KEY-----…"}`.
 * Signatures are matched to keys by their `keyid`.
 */
export function parseKeyMap(text: string, source = 'key map'): TrustedKey[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CosignkitError(
      'KEY_MALFORMED',
      `${source} is not valid JSON (${escapeForTerminal((error as Error).message)})`,
      {
        cause: error,
      },
    );
  }
  if (!isObject(value)) throw new CosignkitError('KEY_MALFORMED', `${source} is not a JSON object of keyid → PEM`);
  const entries = Object.entries(value);
  if (entries.length === 0) throw new CosignkitError('KEY_MALFORMED', `${source} names no keys`);
  return entries.map(([keyid, pem]) => {
    if (typeof pem !== 'string')
      throw new CosignkitError(
        'KEY_MALFORMED',
        `${source}: key ${escapeForTerminal(JSON.stringify(keyid))} is not a PEM string`,
      );
    return trustedKey(pem, keyid);
  });
}

export async function readKeyMap(path: string): Promise<TrustedKey[]> {
  return parseKeyMap(await readPublicKeyText(path), path);
}

/** Fetches a key map over HTTP(S). Network failures are BACKEND_UNAVAILABLE, a bad body KEY_MALFORMED. */
export async function fetchKeyMap(url: string, options: { signal?: AbortSignal } = {}): Promise<TrustedKey[]> {
  assertTrustworthyUrl(url);
  const text = await fetchText(url, 'key map', options.signal);
  if (text === undefined) throw new CosignkitError('BACKEND_UNAVAILABLE', `cannot fetch key map ${url}: HTTP 404`);
  return parseKeyMap(text, url);
}

/**
 * Where a key manifest's detached signature is: `keys.json` → `keys.sig` (ReleaseGate's
 * `/.well-known/releasegate-keys.json` and `.sig`), anything else + `.sig`.
 */
export function keyManifestSignatureLocation(manifest: string): string {
  return /\.json$/i.test(manifest) ? manifest.replace(/\.json$/i, '.sig') : `${manifest}.sig`;
}

/**
 * A root-signed key manifest: the map's exact bytes carry a detached signature by a pinned root key (base64,
 * as sign-blob writes it: ECDSA over SHA-256 of the bytes, or Ed25519 over the bytes). Checked before any key
 * in it is parsed or trusted: no signature, or one the root key does not verify, is VERIFICATION_FAILED.
 */
export function verifyKeyManifest(
  manifest: string,
  signature: string | undefined,
  rootKey: KeyObject,
  source: string,
): TrustedKey[] {
  if (signature === undefined)
    throw new CosignkitError('VERIFICATION_FAILED', `key manifest ${source} is unsigned: refusing its keys`);
  const text = signature.trim();
  const sig = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
  if (sig.length === 0 || !verifyPayload(rootKey, Buffer.from(manifest, 'utf8'), sig)) {
    throw new CosignkitError(
      'VERIFICATION_FAILED',
      `key manifest ${source}: its signature does not verify with the pinned root key: refusing its keys`,
    );
  }
  return parseKeyMap(manifest, source);
}

/** A root-signed key manifest over HTTP(S): the map and its `.sig` (see keyManifestSignatureLocation). */
export async function fetchSignedKeyMap(
  url: string,
  rootKey: KeyObject,
  options: { signal?: AbortSignal; signatureUrl?: string } = {},
): Promise<TrustedKey[]> {
  const signatureUrl = options.signatureUrl ?? keyManifestSignatureLocation(url);
  assertTrustworthyUrl(url);
  assertTrustworthyUrl(signatureUrl);
  const manifest = await fetchText(url, 'key manifest', options.signal);
  if (manifest === undefined)
    throw new CosignkitError('BACKEND_UNAVAILABLE', `cannot fetch key manifest ${url}: HTTP 404`);
  const signature = await fetchText(signatureUrl, 'key manifest signature', options.signal);
  return verifyKeyManifest(manifest, signature, rootKey, url);
}

/** A root-signed key manifest on disk, with its signature file (default: keyManifestSignatureLocation). */
export async function readSignedKeyMap(
  path: string,
  rootKey: KeyObject,
  signaturePath?: string,
): Promise<TrustedKey[]> {
  const manifest = await readPublicKeyText(path);
  const sigPath = signaturePath ?? keyManifestSignatureLocation(path);
  let signature: string | undefined;
  try {
    signature = await readPublicKeyText(sigPath);
  } catch (error) {
    if (!CosignkitError.isInstance(error) || error.code !== 'FILE_NOT_FOUND') throw error;
  }
  return verifyKeyManifest(manifest, signature, rootKey, path);
}

/** A small text over HTTP(S), bounded; undefined on 404 (a missing signature is "unsigned", not an outage). */
async function fetchText(url: string, what: string, signal: AbortSignal | undefined): Promise<string | undefined> {
  let response: Response;
  try {
    response = await fetch(url, { signal: signal ?? AbortSignal.timeout(30_000), redirect: 'follow' });
  } catch (error) {
    throw new CosignkitError('BACKEND_UNAVAILABLE', `cannot fetch ${what} ${url}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (response.status === 404) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new CosignkitError('BACKEND_UNAVAILABLE', `cannot fetch ${what} ${url}: HTTP ${response.status}`);
  }
  return boundedText(response, url);
}

/** The body, refused as soon as it grows past what a key map can be (a hostile server may never stop). */
async function boundedText(response: Response, url: string): Promise<string> {
  const body = await readBoundedResponse(response, MAX_PUBLIC_KEY_FILE_BYTES);
  if (body === undefined)
    throw new CosignkitError('KEY_MALFORMED', `key map ${url} is larger than ${MAX_PUBLIC_KEY_FILE_BYTES} bytes`);
  return body.toString('utf8');
}

/** Trusted keys over plain HTTP could be swapped by anyone on the path: HTTPS, or HTTP to this machine only. */
function assertTrustworthyUrl(text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch (error) {
    throw new CosignkitError('USAGE', `invalid key map URL "${text}"`, { cause: error });
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) return;
  throw new CosignkitError(
    'USAGE',
    `refusing to fetch trusted keys from ${url.protocol}//${url.host}: use an https:// URL`,
  );
}

/** The JSON text of a key map, for writing one from keys in hand. */
export function serializeKeyMap(keys: Readonly<Record<string, string>>): string {
  return `${JSON.stringify(keys, null, 2)}\n`;
}
