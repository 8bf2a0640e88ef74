import { CosignkitError } from '../errors.js';

/**
 * A parsed key reference: what a user types after `--key`. The scheme picks the backend; the path and
 * query mean whatever that backend says. `text` may hold a secret (`pin-value`): show `redactKeyRef(text)`.
 */
export interface KeyRef {
  readonly text: string;
  readonly scheme: string;
  /** For `file`, the file-system path; otherwise what stands between `scheme:` and `?`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
}

/** Stock cosign hands plugin references over as `cosignkit://<reference>`. */
const PLUGIN_PREFIX = 'cosignkit://';
// Two or more characters, so `C:\keys\a.key` stays a path.
const SCHEME = /^([a-z][a-z0-9+.-]+):/i;

export function parseKeyRef(input: string): KeyRef {
  const text = input.startsWith(PLUGIN_PREFIX) ? input.slice(PLUGIN_PREFIX.length) : input;
  if (text.trim() === '') throw new CosignkitError('KEY_REF_INVALID', 'empty key reference');
  const match = SCHEME.exec(text);
  if (!match || match[1]!.toLowerCase() === 'file') {
    const path = match ? text.slice(match[0].length).replace(/^\/\/(?=\/)/, '') : text;
    return { text, scheme: 'file', path, query: {} };
  }
  const scheme = match[1]!.toLowerCase();
  const rest = text.slice(match[0].length);
  const q = rest.indexOf('?');
  const path = q < 0 ? rest : rest.slice(0, q);
  return { text, scheme, path, query: q < 0 ? {} : parseQuery(rest.slice(q + 1), text) };
}

function parseQuery(query: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq), text);
    if (Object.hasOwn(out, name)) {
      throw new CosignkitError('KEY_REF_INVALID', `key reference ${redactKeyRef(text)}: "${name}" given twice`);
    }
    out[name] = eq < 0 ? '' : decode(part.slice(eq + 1), text);
  }
  return out;
}

export function decode(value: string, text: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new CosignkitError('KEY_REF_INVALID', `key reference ${redactKeyRef(text)}: bad percent-encoding`);
  }
}

const SECRET_NAMES = new Set(['pin-value', 'password', 'pin']);
// Any `name=value` attribute: right after the scheme, in a PKCS#11 path (`;`) or in the query.
const ATTRIBUTE = /(^|[:?&;])([^=&;?:]*)=([^&;?]*)/g;

/**
 * The reference with every inline secret replaced, safe for logs and error messages. Attribute names are
 * compared decoded (parseKeyRef decodes them, so `pin%2Dvalue=…` is a PIN too) and case-insensitively.
 */
export function redactKeyRef(text: string): string {
  return text.replace(ATTRIBUTE, (match, separator: string, name: string) =>
    SECRET_NAMES.has(safeDecode(name).toLowerCase()) ? `${separator}${name}=REDACTED` : match,
  );
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The canonical text of a reference (the form `KeyInfo.ref` carries). */
export function formatKeyRef(ref: Pick<KeyRef, 'scheme' | 'path' | 'query'>): string {
  if (ref.scheme === 'file') return ref.path;
  const query = Object.entries(ref.query)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  return `${ref.scheme}:${ref.path}${query ? `?${query}` : ''}`;
}
