import { verify as cryptoVerify } from 'node:crypto';
import { ALGORITHMS, rawToDer } from '@cosignkit/core';
import type { Envelope } from './envelope.js';
import { pae } from './pae.js';
import type { TrustedKey } from './trusted-key.js';

/** The outcome for one signature of an envelope. */
export interface SignatureResult {
  index: number;
  /** The signature's own `keyid` (may be empty). */
  keyid: string;
  /** The id of the trusted key that verified it, when one did. */
  signer?: string;
  fingerprint?: string;
  valid: boolean;
  /** Why it is not valid: `unknown-keyid` (no trusted key has that id) or `invalid` (no key verified it). */
  problem?: 'unknown-keyid' | 'invalid';
}

export interface EnvelopeVerification {
  /** True when every signature verified with a trusted key. */
  allValid: boolean;
  /** The distinct ids of trusted keys that verified a signature. */
  validSigners: string[];
  signatures: SignatureResult[];
}

/**
 * Verifies one signature over a PAE with one public key (ECDSA in DER or raw r‖s, or Ed25519). A P-384
 * signature over SHA-256 is accepted too: cosign hashes with SHA-256 for every ECDSA key.
 */
export function verifySignature(message: Uint8Array, signature: Uint8Array, key: TrustedKey): boolean {
  try {
    if (key.algorithm === 'ed25519') return cryptoVerify(null, message, key.publicKey, signature);
    const facts = ALGORITHMS[key.algorithm];
    const hashes = key.algorithm === 'ecdsa-p384-sha384' ? [facts.hash, 'sha256'] : [facts.hash];
    // A raw r‖s signature (IEEE P1363, the DSSE spec vector's form) has exactly twice the coordinate length.
    const forms = signature.length === 2 * facts.coordinateLength! ? [signature, rawToDer(signature)] : [signature];
    return hashes.some((hash) => forms.some((sig) => safeVerify(hash, message, key, sig)));
  } catch {
    return false;
  }
}

function safeVerify(hash: string, message: Uint8Array, key: TrustedKey, signature: Uint8Array): boolean {
  try {
    return cryptoVerify(hash, message, key.publicKey, signature);
  } catch {
    // OpenSSL throws on garbage DER; for a verifier that is simply "does not verify".
    return false;
  }
}

/**
 * Verifies every signature of an envelope against the trusted keys. A signature with a keyid is checked
 * only with keys of that id (or keys marked `anyKeyid`); one without a keyid with every key.
 */
export function verifyEnvelope(envelope: Envelope, keys: readonly TrustedKey[]): EnvelopeVerification {
  const message = pae(envelope.payloadType, envelope.payload);
  const signatures = envelope.signatures.map((s, index): SignatureResult => {
    const keyid = s.keyid ?? '';
    const candidates = keys.filter((k) => k.anyKeyid || keyid === '' || k.keyid === keyid);
    if (candidates.length === 0) return { index, keyid, valid: false, problem: 'unknown-keyid' };
    const match = candidates.find((k) => verifySignature(message, s.sig, k));
    if (!match) return { index, keyid, valid: false, problem: 'invalid' };
    return { index, keyid, signer: match.keyid, fingerprint: match.fingerprint, valid: true };
  });
  const validSigners = [...new Set(signatures.filter((s) => s.valid).map((s) => s.signer!))];
  return { allValid: signatures.every((s) => s.valid), validSigners, signatures };
}
