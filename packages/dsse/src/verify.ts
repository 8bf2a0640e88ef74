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

/** Verifies one signature over a PAE with one public key (ECDSA in DER or raw r‖s, or Ed25519). */
export function verifySignature(message: Uint8Array, signature: Uint8Array, key: TrustedKey): boolean {
  try {
    if (key.algorithm === 'ed25519') return cryptoVerify(null, message, key.publicKey, signature);
    const hash = ALGORITHMS[key.algorithm].hash;
    if (cryptoVerify(hash, message, key.publicKey, signature)) return true;
    // A raw r‖s signature (IEEE P1363, the DSSE spec vector's form) has exactly twice the coordinate length.
    if (signature.length === 2 * ALGORITHMS[key.algorithm].coordinateLength!) {
      return cryptoVerify(hash, message, key.publicKey, rawToDer(signature));
    }
    return false;
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
