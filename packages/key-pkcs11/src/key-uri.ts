import type { KeyRef } from '@cosignkit/core';
import { parsePkcs11Uri, type Pkcs11Uri } from './pkcs11-uri.js';

/** Key ids of keys that have a CKA_ID but no CKA_LABEL: `id:` and the id in lower-case hex. */
export const ID_PREFIX = 'id:';

/** The key id a URI names: its `object` (the label), else `id:<hex>` from its `id`, else '' (the token itself). */
export function keyIdOfUri(uri: Pkcs11Uri): string {
  if (uri.object !== undefined) return uri.object;
  if (uri.id !== undefined) return `${ID_PREFIX}${Buffer.from(uri.id).toString('hex')}`;
  return '';
}

export function keyIdOf(ref: KeyRef): string {
  return keyIdOfUri(parsePkcs11Uri(ref));
}

/** What a key id asks the token for: a label, or CKA_ID bytes. */
export function keyQuery(id: string): { label: string } | { id: Buffer } {
  if (id.startsWith(ID_PREFIX) && /^[0-9a-f]+$/i.test(id.slice(ID_PREFIX.length))) {
    return { id: Buffer.from(id.slice(ID_PREFIX.length), 'hex') };
  }
  return { label: id };
}

const KEY_ATTRIBUTES = /^(object|id|type)=/i;
const TOKEN_ATTRIBUTES = /^(token|serial|slot-id)=/i;

/**
 * A reference that opens one key of a store again: the store's token attributes as the user wrote them
 * (plus `token=<label>` when they named none), the key's label or id, and the query without `pin-value`.
 */
export function keyRefText(store: KeyRef, tokenLabel: string, keyId: string): string {
  const path = store.path.split(';').filter((part) => part !== '' && !KEY_ATTRIBUTES.test(part));
  if (!path.some((part) => TOKEN_ATTRIBUTES.test(part))) path.unshift(`token=${encode(tokenLabel)}`);
  const key = keyQuery(keyId);
  path.push('label' in key ? `object=${encode(key.label)}` : `id=${percentBytes(key.id)}`);
  const q = store.text.indexOf('?');
  const query =
    q < 0
      ? []
      : store.text
          .slice(q + 1)
          .split('&')
          .filter((part) => part !== '' && !/^pin-value=/i.test(part));
  return `pkcs11:${path.join(';')}${query.length ? `?${query.join('&')}` : ''}`;
}

function encode(value: string): string {
  return encodeURIComponent(value);
}

function percentBytes(bytes: Buffer): string {
  return [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}
