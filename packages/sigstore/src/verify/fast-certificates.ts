import { createHash, type KeyObject } from 'node:crypto';
import { EXTENSION_OID_SCT, crypto as sigstoreCrypto, X509Certificate } from '@sigstore/core';
import { encodeNode, encodeParsed } from './der-encoding.js';
import { parsedByDer } from './parsed-by-der.js';

/**
 * Speeds up @sigstore/verify's certificate-chain step without changing a verdict. It compares certificates
 * with `equals`, which re-encodes both to DER each time (O(n²) per chain, the bulk of a cold verification),
 * and `verify(issuer)` re-encodes the TBS and re-imports the issuer's key on every call. Here each
 * certificate's DER, TBS and key are computed once per object; and a signature between two certificates of
 * the TRUSTED ROOT (a Fulcio intermediate under its root) is checked once per process: both are fixed trust
 * material. Other certificate signatures (a leaf under its intermediate) are remembered in a bounded cache
 * keyed by the SHA-256 of both certificates' DER: a signature check is a pure function of those bytes, so a
 * hit gives exactly the answer a fresh check would (time-dependent checks, validity windows, still run on
 * every verification). It matters when one signing certificate covers many artifacts (a CI job's files).
 */
const derCache = new WeakMap<X509Certificate, Buffer>();
const tbsCache = new WeakMap<X509Certificate, Buffer>();
const keyCache = new WeakMap<X509Certificate, KeyObject>();
const trusted = new WeakSet<X509Certificate>();
const trustedVerdicts = new Map<string, boolean>();
const VERDICT_CACHE_SIZE = 4096;
const verdicts = new Map<string, boolean>();
const hashes = new WeakMap<X509Certificate, string>();

function hashOf(cert: X509Certificate): string {
  let hash = hashes.get(cert);
  if (hash === undefined) {
    hash = createHash('sha256').update(derOf(cert)).digest('hex');
    hashes.set(cert, hash);
  }
  return hash;
}

function derOf(cert: X509Certificate): Buffer {
  let der = derCache.get(cert);
  if (!der) {
    der = encodeParsed(cert.root);
    derCache.set(cert, der);
  }
  return der;
}

function keyOf(cert: X509Certificate): KeyObject {
  let key = keyCache.get(cert);
  if (!key) {
    key = sigstoreCrypto.createPublicKey(cert.publicKey);
    keyCache.set(cert, key);
  }
  return key;
}

function tbsOf(cert: X509Certificate): Buffer {
  let tbs = tbsCache.get(cert);
  if (!tbs) {
    tbs = encodeParsed(cert.tbsCertificate);
    tbsCache.set(cert, tbs);
  }
  return tbs;
}

const PRECERT_CACHE_SIZE = 1024;
const precerts = new Map<string, { extensions: X509Certificate['extensions']; tbs: Buffer }>();

/**
 * `clone()` is what @sigstore/verify's SCT check calls: it removes the SCT extension from the copy and
 * re-encodes the TBS (the RFC 6962 precertificate), which costs more than the SCT's signature check. That
 * TBS is a function of the certificate's bytes alone, so it is built once per certificate and served from a
 * bounded cache: the TBS with its first SCT extension left out (as the library's splice does), the other
 * nodes' bytes unchanged (der-encoding.ts says why they are what toDER() would give). The copy handed back
 * has its own list of the certificate's extensions (the library splices it) and that TBS. The SCT
 * signature itself is checked every time.
 */
function precertView(cert: X509Certificate): X509Certificate {
  const key = hashOf(cert);
  let entry = precerts.get(key);
  if (!entry) {
    entry = { extensions: [...cert.extensions], tbs: precertificateTbs(cert) };
    if (precerts.size >= PRECERT_CACHE_SIZE) precerts.delete(precerts.keys().next().value!);
    precerts.set(key, entry);
  }
  const { tbs } = entry;
  return { extensions: [...entry.extensions], tbsCertificate: { toDER: () => tbs } } as unknown as X509Certificate;
}

function precertificateTbs(cert: X509Certificate): Buffer {
  const tbs = cert.tbsCertificate;
  const wrapper = tbs.subs.find((sub) => sub.tag.isContextSpecific(0x03));
  const list = wrapper?.subs[0];
  const index = list ? list.subs.findIndex((ext) => ext.subs[0]?.toOID() === EXTENSION_OID_SCT) : -1;
  if (!wrapper || !list || index === -1) return tbsOf(cert);
  const kept = list.subs.filter((_, i) => i !== index).map(encodeParsed);
  const newList = encodeNode(list.tag.toDER(), kept);
  const newWrapper = encodeNode(
    wrapper.tag.toDER(),
    wrapper.subs.map((sub, i) => (i === 0 ? newList : encodeParsed(sub))),
  );
  return encodeNode(
    tbs.tag.toDER(),
    tbs.subs.map((sub) => (sub === wrapper ? newWrapper : encodeParsed(sub))),
  );
}

/** Installs the cached `equals` and `verify` on one certificate object. `der`: its bytes when known. */
export function accelerateCertificate(
  cert: X509Certificate,
  options: { der?: Buffer; trusted?: boolean; memoize?: boolean } = {},
): X509Certificate {
  if (options.der) derCache.set(cert, options.der);
  if (options.trusted) trusted.add(cert);
  cert.equals = (other: X509Certificate) => derOf(cert).equals(derOf(other));
  cert.clone = () => precertView(cert);
  cert.verify = (issuer?: X509Certificate) => {
    // A certificate of the trusted root asked whether it signed itself is a trust anchor: RFC 5280 (6.1)
    // takes an anchor's name and key as given, and Go's crypto/x509 (cosign, sigstore-go) never checks a
    // root's self-signature. @sigstore/verify asks (findIssuer, to end a path at a self-signed certificate):
    // a P-384 check, a millisecond of a one-shot verify-blob, that adds no trust. Everything it signs is
    // still checked against its key.
    if (issuer === undefined && trusted.has(cert)) return true;
    const signer = issuer ?? cert;
    if (trusted.has(cert) && trusted.has(signer)) {
      const pair = `${hashOf(cert)}:${hashOf(signer)}`;
      let verdict = trustedVerdicts.get(pair);
      if (verdict === undefined) {
        verdict = sigstoreCrypto.verify(tbsOf(cert), keyOf(signer), cert.signatureValue, cert.signatureAlgorithm);
        trustedVerdicts.set(pair, verdict);
      }
      return verdict;
    }
    const pair = `${hashOf(cert)}:${hashOf(signer)}`;
    let verdict = verdicts.get(pair);
    if (verdict === undefined) {
      verdict = sigstoreCrypto.verify(tbsOf(cert), keyOf(signer), cert.signatureValue, cert.signatureAlgorithm);
      if (verdicts.size >= VERDICT_CACHE_SIZE) verdicts.delete(verdicts.keys().next().value!);
      verdicts.set(pair, verdict);
    }
    return verdict;
  };
  if (options.trusted || options.memoize) {
    // The object's bytes never change (trust material, or a leaf shared through the parsed-certificate
    // cache), so its parsed fields are read once, on first use: each getter walks or re-encodes the ASN.1
    // tree (`publicKey` re-encodes the SPKI on every read).
    Object.defineProperty(cert, 'publicKey', {
      configurable: true,
      get() {
        const value = encodeParsed(cert.tbsCertificate.subs[6]!);
        Object.defineProperty(cert, 'publicKey', { value, configurable: true });
        return value;
      },
    });
    // Each extension's OID is decoded (base-128, joined into a string) on every lookup: `extension(oid)`,
    // the SCT step and the signer's OID list read them all on each verification. Decoded once per node here;
    // a node whose first element is not an OID keeps the original method (and its error).
    for (const ext of cert.extensions) {
      const oidNode = ext.subs[0];
      if (!oidNode?.tag.isOID()) continue;
      const oid = oidNode.toOID();
      oidNode.toOID = () => oid;
    }
    for (const name of MEMOIZED_GETTERS) {
      const getter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(cert), name)?.get;
      if (!getter) continue;
      Object.defineProperty(cert, name, {
        configurable: true,
        get() {
          const value: unknown = getter.call(cert);
          Object.defineProperty(cert, name, { value, configurable: true });
          return value;
        },
      });
    }
  }
  return cert;
}

const MEMOIZED_GETTERS = [
  'isCA',
  'notBefore',
  'notAfter',
  'extBasicConstraints',
  'extKeyUsage',
  'extAuthorityKeyID',
  'extSubjectKeyID',
  'subject',
  'issuer',
  'serialNumber',
  'subjectAltName',
  'signatureAlgorithm',
  'signatureValue',
] as const;

/**
 * A bundle's leaf certificate, parsed once per distinct DER (bounded, least recently used out): the pure-JS
 * ASN.1 parse costs more than the signature checks of a whole verification. Same bytes, same object, so the
 * per-object caches above (TBS, key, precertificate, memoized fields) are warm when one certificate signs
 * many artifacts. Only parsing is shared: every check that takes a time or a signature still runs. Throws
 * what X509Certificate.parse throws for bytes that are not a certificate.
 */
export const parsedCertificate: (der: Uint8Array) => X509Certificate = parsedByDer(1024, (der, hash) => {
  const bytes = Buffer.from(der); // a private copy: the caller's buffer may be reused
  const cert = accelerateCertificate(X509Certificate.parse(bytes), { der: bytes, memoize: true });
  hashes.set(cert, hash);
  return cert;
});
