import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { CosignkitError } from '../errors.js';
import type { KeyAlgorithm } from '../contracts/key-manager.js';

export type HashAlgorithm = 'sha256' | 'sha384' | 'sha512';

interface AlgorithmFacts {
  hash: HashAlgorithm;
  /** Bytes in the digest the key signs (ECDSA), or undefined for pure signatures. */
  digestLength?: number;
  /**
   * Other digest lengths accepted: cosign hashes with SHA-256 for every ECDSA key file and KMS key (its
   * default hash function), so a P-384 key must also sign 32-byte digests to serve stock cosign.
   */
  alsoAccepts?: readonly number[];
  /** Bytes in one of r, s. */
  coordinateLength?: number;
  namedCurve?: string;
}

export const ALGORITHMS: Readonly<Record<KeyAlgorithm, AlgorithmFacts>> = {
  'ecdsa-p256-sha256': { hash: 'sha256', digestLength: 32, coordinateLength: 32, namedCurve: 'prime256v1' },
  'ecdsa-p384-sha384': {
    hash: 'sha384',
    digestLength: 48,
    alsoAccepts: [32],
    coordinateLength: 48,
    namedCurve: 'secp384r1',
  },
  ed25519: { hash: 'sha512' },
};

export const KEY_ALGORITHMS = Object.keys(ALGORITHMS) as KeyAlgorithm[];

export function isKeyAlgorithm(value: string): value is KeyAlgorithm {
  return Object.hasOwn(ALGORITHMS, value);
}

/** The algorithm of a public or private key, or ALGORITHM_UNSUPPORTED (RSA, P-521, …). */
export function algorithmOfKey(key: KeyObject): KeyAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ecdsa-p256-sha256';
    if (curve === 'secp384r1') return 'ecdsa-p384-sha384';
  }
  const what =
    key.asymmetricKeyType === 'ec' ? `EC curve ${key.asymmetricKeyDetails?.namedCurve}` : key.asymmetricKeyType;
  throw new CosignkitError(
    'ALGORITHM_UNSUPPORTED',
    `unsupported key type: ${what} (use ECDSA P-256, P-384 or Ed25519)`,
  );
}

/** Refuses a digest whose length does not fit the algorithm (hardware tokens would sign anything). */
export function assertDigestLength(algorithm: KeyAlgorithm, digest: Uint8Array): void {
  const { digestLength: expected, alsoAccepts = [] } = ALGORITHMS[algorithm];
  if (expected === undefined) {
    throw new CosignkitError('NOT_SUPPORTED', `${algorithm} keys sign messages, not digests`);
  }
  if (digest.length !== expected && !alsoAccepts.includes(digest.length)) {
    throw new CosignkitError(
      'DIGEST_LENGTH',
      `${algorithm} needs a ${[expected, ...alsoAccepts].join(' or ')}-byte digest, got ${digest.length} bytes`,
    );
  }
}

export function spkiDer(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'pem' }).toString();
}

/** Lower-case hex SHA-256 of the SPKI DER: the fingerprint cosignkit shows and uses as DSSE keyid. */
export function fingerprintOf(key: KeyObject): string {
  let fingerprint = fingerprints.get(key);
  if (fingerprint === undefined) {
    const pub = key.type === 'private' ? createPublicKey(key) : key;
    fingerprint = createHash('sha256').update(spkiDer(pub)).digest('hex');
    fingerprints.set(key, fingerprint);
  }
  return fingerprint;
}

/**
 * A KeyObject never changes, and verifying many images against one key asks for its fingerprint on every
 * signature found (an SPKI export and a hash each): remembered per key object for as long as it lives.
 */
const fingerprints = new WeakMap<KeyObject, string>();

/**
 * Converts a raw r‖s (IEEE P1363) ECDSA signature, `raw[from..to)` (all of it by default: a token's reply can
 * be read in place), to the ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }` cosign expects. Written into one
 * array: a signing service converts thousands a second, and each small Buffer was garbage for the event loop
 * to collect (issue 19).
 */
export function rawToDer(raw: Uint8Array, from = 0, to = raw.length): Uint8Array {
  const length = to - from;
  if (length <= 0 || length % 2 !== 0) {
    throw new CosignkitError('SIGNATURE_MALFORMED', `raw ECDSA signature has odd length ${Math.max(0, length)}`);
  }
  const half = from + length / 2;
  const rStart = firstSignificant(raw, from, half);
  const sStart = firstSignificant(raw, half, to);
  // A leading 0x00 keeps an integer with its top bit set positive.
  const rPad = raw[rStart]! & 0x80 ? 1 : 0;
  const sPad = raw[sStart]! & 0x80 ? 1 : 0;
  const rLength = half - rStart + rPad;
  const sLength = to - sStart + sPad;
  const body = 2 + rLength + 2 + sLength;
  // P-256 and P-384 bodies are under 128 bytes (short-form length); a longer one takes the 0x81 form.
  const header = body < 0x80 ? 2 : 3;
  const der = new Uint8Array(header + body);
  der[0] = 0x30;
  if (header === 2) der[1] = body;
  else {
    der[1] = 0x81;
    der[2] = body;
  }
  let at = header;
  der[at++] = 0x02;
  der[at++] = rLength;
  at += rPad; // the array starts zeroed
  // Byte loops, not set(subarray): a view is an allocation too.
  for (let i = rStart; i < half; i++) der[at++] = raw[i]!;
  der[at++] = 0x02;
  der[at++] = sLength;
  at += sPad;
  for (let i = sStart; i < to; i++) der[at++] = raw[i]!;
  return der;
}

/** Where an integer's significant bytes start: leading zeros dropped, at least one byte kept. */
function firstSignificant(raw: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end - 1 && raw[i] === 0) i++;
  return i;
}
