import { CosignkitError } from '../errors.js';
import type { KeyAlgorithm } from '../contracts/key-manager.js';
import { ALGORITHMS, rawToDer } from '../keys/algorithms.js';
import { readBoundedFile } from '../files/read-bounded-file.js';

/** Signature files are tiny; anything bigger than this is not one. */
const MAX_SIGNATURE_FILE = 64 * 1024;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Reads a signature file: base64 text (what cosign writes) or raw bytes. */
export async function readSignatureFile(path: string, algorithm: KeyAlgorithm): Promise<Buffer> {
  const bytes = await readBoundedFile(path, {
    maxBytes: MAX_SIGNATURE_FILE,
    tooLargeCode: 'SIGNATURE_MALFORMED',
    what: 'a signature',
  });
  const signature = decodeSignature(bytes, algorithm);
  if (!signature) throw new CosignkitError('SIGNATURE_MALFORMED', `${path} holds no ${describe(algorithm)} signature`);
  return signature;
}

/**
 * Decodes signature bytes for a key algorithm: base64 text first, then raw bytes. ECDSA signatures come out
 * as ASN.1 DER (raw r‖s is converted, as cosign accepts both); undefined when nothing fits.
 */
export function decodeSignature(bytes: Uint8Array, algorithm: KeyAlgorithm): Buffer | undefined {
  const text = Buffer.from(bytes).toString('latin1').replace(/\s+/g, '');
  if (BASE64.test(text)) {
    const decoded = normalize(
      Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64'),
      algorithm,
    );
    if (decoded) return decoded;
  }
  return normalize(Buffer.from(bytes), algorithm);
}

/** Decodes the base64 signature of a bundle; undefined when it is not one. */
export function decodeBase64Signature(text: string, algorithm: KeyAlgorithm): Buffer | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!BASE64.test(compact)) return undefined;
  return normalize(Buffer.from(compact, 'base64'), algorithm);
}

function normalize(bytes: Buffer, algorithm: KeyAlgorithm): Buffer | undefined {
  if (algorithm === 'ed25519') return bytes.length === 64 ? bytes : undefined;
  if (isDerSignature(bytes)) return bytes;
  const coordinate = ALGORITHMS[algorithm].coordinateLength!;
  if (bytes.length === 2 * coordinate) return Buffer.from(rawToDer(bytes));
  return undefined;
}

/** A structural check of `SEQUENCE { INTEGER r, INTEGER s }` with consistent lengths. */
export function isDerSignature(bytes: Uint8Array): boolean {
  if (bytes.length < 8 || bytes[0] !== 0x30) return false;
  let offset = 2;
  let length = bytes[1]!;
  if (length === 0x81) {
    length = bytes[2]!;
    offset = 3;
  } else if (length > 0x80) {
    return false;
  }
  if (offset + length !== bytes.length) return false;
  for (let i = 0; i < 2; i++) {
    if (bytes[offset] !== 0x02) return false;
    const intLength = bytes[offset + 1]!;
    if (intLength === 0 || intLength > 0x7f) return false;
    offset += 2 + intLength;
    if (offset > bytes.length) return false;
  }
  return offset === bytes.length;
}

function describe(algorithm: KeyAlgorithm): string {
  return algorithm === 'ed25519' ? 'Ed25519' : 'ECDSA';
}
