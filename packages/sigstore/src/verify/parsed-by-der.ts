import { hash as oneShotHash } from 'node:crypto';

/**
 * A parser whose results are kept per distinct DER (bounded, least recently used out): the pure-JS ASN.1
 * parses of @sigstore/core cost more than the signature checks they feed, and a certificate or timestamp
 * token met again (one certificate signing many artifacts) has the same bytes, so the same object serves.
 * Keyed by the bytes' SHA-256, which `parse` also receives. Only parsing is shared: every check that takes a
 * time or a signature still runs on the object each time.
 */
export function parsedByDer<T>(size: number, parse: (der: Uint8Array, hash: string) => T): (der: Uint8Array) => T {
  const kept = new Map<string, T>();
  return (der) => {
    const hash = oneShotHash('sha256', der, 'hex'); // one-shot: no Hash object per lookup
    let value = kept.get(hash);
    if (value !== undefined) {
      kept.delete(hash);
    } else {
      value = parse(der, hash);
      if (kept.size >= size) kept.delete(kept.keys().next().value!);
    }
    kept.set(hash, value);
    return value;
  };
}
