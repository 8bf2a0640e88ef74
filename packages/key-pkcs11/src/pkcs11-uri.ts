import { CosignkitError } from '@cosignkit/core';
import { decodeKeyRefPart as decode, redactKeyRef, type KeyRef } from '@cosignkit/core';

/** An RFC 7512 PKCS#11 URI, with the query attributes cosign uses. */
export interface Pkcs11Uri {
  token?: string;
  manufacturer?: string;
  serial?: string;
  model?: string;
  libraryManufacturer?: string;
  libraryDescription?: string;
  libraryVersion?: { major: number; minor: number };
  object?: string;
  type?: 'public' | 'private' | 'cert' | 'secret-key' | 'data';
  /** CKA_ID bytes. */
  id?: Uint8Array;
  slotDescription?: string;
  slotManufacturer?: string;
  slotId?: number;
  pinSource?: string;
  pinValue?: string;
  moduleName?: string;
  modulePath?: string;
  /** Vendor attributes (`x-…`), path and query alike. */
  vendor: Record<string, string>;
}

const PATH_ATTRIBUTES: Record<string, keyof Pkcs11Uri> = {
  token: 'token',
  manufacturer: 'manufacturer',
  serial: 'serial',
  model: 'model',
  'library-manufacturer': 'libraryManufacturer',
  'library-description': 'libraryDescription',
  'library-version': 'libraryVersion',
  object: 'object',
  type: 'type',
  id: 'id',
  'slot-description': 'slotDescription',
  'slot-manufacturer': 'slotManufacturer',
  'slot-id': 'slotId',
};
const QUERY_ATTRIBUTES: Record<string, keyof Pkcs11Uri> = {
  'pin-source': 'pinSource',
  'pin-value': 'pinValue',
  'module-name': 'moduleName',
  'module-path': 'modulePath',
};
const OBJECT_TYPES = new Set(['public', 'private', 'cert', 'secret-key', 'data']);

/** Parses `pkcs11:…` text or an already parsed KeyRef with scheme `pkcs11`. */
export function parsePkcs11Uri(input: string | KeyRef): Pkcs11Uri {
  const text = typeof input === 'string' ? input : input.text;
  const shown = redactKeyRef(text);
  const fail = (why: string): never => {
    throw new CosignkitError('KEY_REF_INVALID', `invalid PKCS#11 URI ${shown}: ${why}`);
  };
  if (!/^pkcs11:/i.test(text)) fail('it must start with "pkcs11:"');
  const body = text.slice('pkcs11:'.length);
  const q = body.indexOf('?');
  const path = q < 0 ? body : body.slice(0, q);
  const query = q < 0 ? '' : body.slice(q + 1);
  const uri: Pkcs11Uri = { vendor: {} };
  const seen = new Set<string>();

  const take = (part: string, table: Record<string, keyof Pkcs11Uri>): void => {
    if (part === '') return;
    const eq = part.indexOf('=');
    if (eq < 0) fail(`attribute "${part.replace(/=.*/, '')}" has no value`);
    const name = part.slice(0, eq).toLowerCase();
    const raw = part.slice(eq + 1);
    if (seen.has(name)) fail(`attribute "${name}" given twice`);
    seen.add(name);
    if (name.startsWith('x-')) {
      uri.vendor[name] = decode(raw, text);
      return;
    }
    const field = table[name];
    if (!field) fail(`unknown attribute "${name}"`);
    setField(uri, field!, raw, text, fail);
  };
  for (const part of path.split(';')) take(part, PATH_ATTRIBUTES);
  for (const part of query.split('&')) take(part, QUERY_ATTRIBUTES);
  if (uri.pinSource !== undefined && uri.pinValue !== undefined) fail('give pin-source or pin-value, not both');
  return uri;
}

function setField(
  uri: Pkcs11Uri,
  field: keyof Pkcs11Uri,
  raw: string,
  text: string,
  fail: (why: string) => never,
): void {
  switch (field) {
    case 'id':
      uri.id = percentBytes(raw, fail);
      return;
    case 'slotId': {
      if (!/^\d+$/.test(raw)) fail('slot-id must be a decimal number');
      uri.slotId = Number(raw);
      return;
    }
    case 'libraryVersion': {
      const m = /^(\d+)(?:\.(\d+))?$/.exec(raw);
      if (!m) fail('library-version must be M or M.N');
      uri.libraryVersion = { major: Number(m![1]), minor: Number(m![2] ?? 0) };
      return;
    }
    case 'type': {
      const value = decode(raw, text);
      if (!OBJECT_TYPES.has(value)) fail(`type must be one of ${[...OBJECT_TYPES].join(', ')}`);
      uri.type = value as Pkcs11Uri['type'];
      return;
    }
    default:
      (uri as unknown as Record<string, string>)[field] = decode(raw, text);
  }
}

/** `id` values are arbitrary bytes: decode %XX escapes byte-wise, not as UTF-8. */
function percentBytes(raw: string, fail: (why: string) => never): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === '%') {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/i.test(hex)) fail('bad percent-encoding in id');
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(raw[i]!, 'utf8'));
    }
  }
  return Uint8Array.from(bytes);
}
