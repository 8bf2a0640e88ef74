import { RFC3161Timestamp } from '@sigstore/core';
import { encodeParsed } from './der-encoding.js';
import { parsedByDer } from './parsed-by-der.js';

/**
 * An RFC 3161 timestamp token, parsed once per distinct DER (bounded, least recently used out), as
 * fast-certificates.ts does for leaf certificates. @sigstore/verify parses each token on every verification
 * (`toSignedEntity`) and its getters re-derive on every read: `tstInfo` builds a new object, `raw` and the
 * signed attributes re-encode their ASN.1 subtrees, every OID is re-decoded. On a bundle with a timestamp that
 * costs about as much as the TSA's signature check. A token's bytes never change, so its fields are read once
 * per object; `verify(data, key)` still runs in full on every verification: the message imprint against the
 * bundle's signature, the signed digest against TSTInfo, and the TSA's signature over the signed attributes.
 * Throws what RFC3161Timestamp.parse throws for bytes that are not a timestamp.
 */
export const parsedTimestamp: (der: Uint8Array) => RFC3161Timestamp = parsedByDer(1024, (der) =>
  accelerate(RFC3161Timestamp.parse(Buffer.from(der))),
);

const TIMESTAMP_GETTERS = [
  'status',
  'contentType',
  'eContentType',
  'signingTime',
  'signerIssuer',
  'signerSerialNumber',
  'signerDigestAlgorithm',
  'signatureAlgorithm',
  'signatureValue',
  'tstInfo',
] as const;
const TSTINFO_GETTERS = ['version', 'genTime', 'messageImprintHashAlgorithm', 'messageImprintHashedMessage'] as const;

function accelerate(timestamp: RFC3161Timestamp): RFC3161Timestamp {
  memoize(timestamp, TIMESTAMP_GETTERS, (name, value) => {
    if (name !== 'tstInfo') return;
    const info = value as RFC3161Timestamp['tstInfo'];
    memoize(info, TSTINFO_GETTERS);
    // `raw` is only hashed (verifyMessageDigest): the same bytes, encoded once.
    let raw: Buffer | undefined;
    Object.defineProperty(info, 'raw', { configurable: true, get: () => (raw ??= encodeParsed(info.root)) });
  });
  // verifySignature re-encodes the signed attributes and overwrites their first byte (the [0] tag becomes
  // SET, RFC 5652 §5.4) on the buffer it gets: encoded once here, and a fresh copy handed out each time.
  // Read on first use, as the library does (a token without them fails its verification, not its parse).
  const getter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(timestamp), 'signedAttrsObj')?.get;
  if (getter) {
    Object.defineProperty(timestamp, 'signedAttrsObj', {
      configurable: true,
      get() {
        const node = getter.call(timestamp) as { toDER(): Buffer } | undefined;
        if (node) {
          const der = encodeParsed(node as Parameters<typeof encodeParsed>[0]);
          node.toDER = () => Buffer.from(der);
        }
        Object.defineProperty(timestamp, 'signedAttrsObj', { value: node, configurable: true });
        return node;
      },
    });
  }
  return timestamp;
}

/** Each named getter of the prototype becomes a value on the object at its first successful read. */
function memoize(object: object, names: readonly string[], onRead?: (name: string, value: unknown) => void): void {
  const proto: object = Object.getPrototypeOf(object);
  for (const name of names) {
    const getter = Object.getOwnPropertyDescriptor(proto, name)?.get;
    if (!getter) continue;
    Object.defineProperty(object, name, {
      configurable: true,
      get() {
        const value: unknown = getter.call(object);
        Object.defineProperty(object, name, { value, configurable: true });
        onRead?.(name, value);
        return value;
      },
    });
  }
}
