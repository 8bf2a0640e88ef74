import { CosignkitError } from '@cosignkit/core';
import canonicalize from 'canonicalize';

/**
 * A JSON payload in RFC 8785 (JCS) canonical form, as ReleaseGate signs statements: keys sorted by UTF-16
 * code units, no whitespace, ECMAScript number formatting. The `canonicalize` library does the work; this
 * only parses and refuses what JCS cannot represent.
 */
export function canonicalJson(payload: Uint8Array): Buffer {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch (error) {
    throw new CosignkitError('USAGE', 'a canonical (JCS) payload must be JSON', { cause: error });
  }
  const text = canonicalize(value);
  if (text === undefined) throw new CosignkitError('USAGE', 'the payload has no JCS form');
  return Buffer.from(text, 'utf8');
}
