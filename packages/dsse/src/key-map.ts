import { CosignkitError, escapeForTerminal, MAX_PUBLIC_KEY_FILE_BYTES, readPublicKeyText } from '@cosignkit/core';
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
  let response: Response;
  try {
    response = await fetch(url, { signal: options.signal ?? AbortSignal.timeout(30_000), redirect: 'follow' });
  } catch (error) {
    throw new CosignkitError('BACKEND_UNAVAILABLE', `cannot fetch key map ${url}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!response.ok)
    throw new CosignkitError('BACKEND_UNAVAILABLE', `cannot fetch key map ${url}: HTTP ${response.status}`);
  return parseKeyMap(await boundedText(response, url), url);
}

/** The body, refused as soon as it grows past what a key map can be (a hostile server may never stop). */
async function boundedText(response: Response, url: string): Promise<string> {
  const tooLarge = () =>
    new CosignkitError('KEY_MALFORMED', `key map ${url} is larger than ${MAX_PUBLIC_KEY_FILE_BYTES} bytes`);
  if (Number(response.headers.get('content-length') ?? 0) > MAX_PUBLIC_KEY_FILE_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.length;
    if (size > MAX_PUBLIC_KEY_FILE_BYTES) {
      await response.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
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
