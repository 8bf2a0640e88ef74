import { CosignkitError } from '@cosignkit/core/errors';

/**
 * Sigstore's KMS plugin protocol v1, as cosign speaks it (FORMATS.md §5). Kept free of core (but its errors entry)
 * and of every backend: the plugin answers `defaultAlgorithm` with nothing more loaded.
 */

export const PROTOCOL_VERSION = 'v1';

export const METHODS = [
  'defaultAlgorithm',
  'supportedAlgorithms',
  'createKey',
  'publicKey',
  'signMessage',
  'verifySignature',
] as const;
export type PluginMethod = (typeof METHODS)[number];

export interface MessageOptions {
  /** Base64 of a digest already computed, or null/absent when the message comes on stdin. */
  digest?: string | null;
  hashFunc?: number;
}

export interface PluginRequest {
  initOptions: {
    protocolVersion?: string;
    keyResourceID: string;
    hashFunc?: number;
    ctxDeadline?: string;
    rpcOptions?: Record<string, unknown>;
  };
  methodName: PluginMethod;
  [method: string]: unknown;
}

export type PluginResponse = { errorMessage: string } | Record<string, unknown>;

/** Go's crypto.Hash numbers (what cosign sends) and the digests they name. */
const HASHES: Readonly<Record<number, { name: 'sha256' | 'sha384' | 'sha512'; length: number }>> = {
  5: { name: 'sha256', length: 32 },
  6: { name: 'sha384', length: 48 },
  7: { name: 'sha512', length: 64 },
};

export function hashOf(hashFunc: number | undefined): { name: 'sha256' | 'sha384' | 'sha512'; length: number } {
  const hash = HASHES[hashFunc ?? 5];
  if (!hash)
    throw new CosignkitError(
      'NOT_SUPPORTED',
      `hash function ${String(hashFunc)} is not supported (SHA-256, SHA-384 or SHA-512)`,
    );
  return hash;
}

/** cosignkit's algorithm names and sigstore's (what cosign hands back to createKey). */
const SIGSTORE_NAMES: Readonly<Record<string, string>> = {
  'ecdsa-p256-sha256': 'ecdsa-sha2-256-nistp256',
  'ecdsa-p384-sha384': 'ecdsa-sha2-384-nistp384',
  ed25519: 'ed25519',
};

export function sigstoreAlgorithm(algorithm: string): string {
  return SIGSTORE_NAMES[algorithm] ?? algorithm;
}

export function cosignkitAlgorithm(name: string): string {
  for (const [ours, theirs] of Object.entries(SIGSTORE_NAMES)) {
    if (name === ours || name === theirs) return ours;
  }
  throw new CosignkitError(
    'ALGORITHM_UNSUPPORTED',
    `algorithm "${name}" is not supported (${Object.values(SIGSTORE_NAMES).join(', ')})`,
  );
}

/**
 * The algorithm createKey uses when cosign asks for the default: P-256 (cosign's own default), or P-384 when
 * the reference asks for it (`tpm:name?curve=p384`). Decided from the text alone, so nothing is opened.
 */
export function defaultAlgorithmOf(keyResourceID: string): string {
  const query = keyResourceID.includes('?') ? keyResourceID.slice(keyResourceID.indexOf('?') + 1) : '';
  const params = new URLSearchParams(query);
  const wanted = (params.get('algorithm') ?? params.get('curve') ?? '').toLowerCase();
  if (wanted === 'p384' || wanted === 'p-384' || wanted === 'ecdsa-p384-sha384')
    return SIGSTORE_NAMES['ecdsa-p384-sha384']!;
  if (wanted === 'ed25519') return 'ed25519';
  return SIGSTORE_NAMES['ecdsa-p256-sha256']!;
}

/** Parses argv as cosign passes it: `v1 <json>`. Throws CosignkitError for anything else. */
export function parseRequest(argv: readonly string[]): PluginRequest {
  const [version, json] = argv;
  if (version !== PROTOCOL_VERSION && version !== '1') {
    throw new CosignkitError(
      'USAGE',
      `unsupported protocol version "${String(version)}" (this plugin speaks ${PROTOCOL_VERSION})`,
    );
  }
  if (json === undefined)
    throw new CosignkitError('USAGE', 'no request: expected the request JSON after the protocol version');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new CosignkitError('USAGE', 'the request is not valid JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new CosignkitError('USAGE', 'the request is not a JSON object');
  const request = parsed as Partial<PluginRequest>;
  const init = request.initOptions;
  if (!init || typeof init !== 'object' || typeof init.keyResourceID !== 'string') {
    throw new CosignkitError('USAGE', 'the request has no initOptions.keyResourceID');
  }
  if (typeof request.methodName !== 'string' || !(METHODS as readonly string[]).includes(request.methodName)) {
    throw new CosignkitError(
      'USAGE',
      `unknown method ${typeof request.methodName === 'string' ? JSON.stringify(request.methodName) : typeof request.methodName} (supported: ${METHODS.join(', ')})`,
    );
  }
  checkHashFunc(init.hashFunc, 'initOptions.hashFunc');
  return request as PluginRequest;
}

/** The arguments object of the request's method (`request[methodName]`), or an empty object. */
export function methodArgs(request: PluginRequest): Record<string, unknown> {
  const args = request[request.methodName];
  return args && typeof args === 'object' ? (args as Record<string, unknown>) : {};
}

/** Message options may sit under `messageOptions` or, as Go embeds them, flat in the options object. */
export function messageOptionsOf(options: unknown): MessageOptions {
  if (!options || typeof options !== 'object') return {};
  const o = options as Record<string, unknown>;
  const inner =
    o.messageOptions && typeof o.messageOptions === 'object' ? (o.messageOptions as Record<string, unknown>) : o;
  const { digest, hashFunc } = inner;
  // Checked here, not where they are used: a number where base64 belongs would reach Buffer.from as a size.
  if (digest !== undefined && digest !== null && typeof digest !== 'string')
    throw new CosignkitError('USAGE', 'messageOptions.digest is not a base64 string');
  checkHashFunc(hashFunc, 'messageOptions.hashFunc');
  return { digest, hashFunc: (hashFunc ?? undefined) as number | undefined };
}

/** Go's crypto.Hash is an integer; anything else in the request is refused, not coerced ("5" is not 5). */
function checkHashFunc(value: unknown, what: string): void {
  if (value !== undefined && value !== null && !Number.isSafeInteger(value))
    throw new CosignkitError('USAGE', `${what} is not an integer (a Go crypto.Hash)`);
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Field names follow sigstore's Go structs; Go reads JSON keys case-insensitively, so lower camel case works. */
export function errorResponse(error: unknown): { errorMessage: string } {
  const e = error as { code?: unknown; message?: unknown };
  const text = typeof e?.message === 'string' && e.message !== '' ? e.message.split('\n')[0]! : 'unexpected failure';
  // cosign prints the message as it is: text quoted from a request must not reach its terminal raw.
  const message = text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const code = typeof e?.code === 'string' && /^[A-Z_]+$/.test(e.code) ? ` [${e.code}]` : '';
  return { errorMessage: `cosignkit: ${message}${code}` };
}
