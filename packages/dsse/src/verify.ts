import { verifyPayload } from '@cosignkit/core';
import { pae } from './pae.js';
import type { Envelope } from './envelope.js';
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
 * Verifies one signature over a PAE with one public key: core's cosign-compatible check (ECDSA in DER or
 * raw r‖s, over SHA-256 or the curve's own hash; Ed25519).
 */
export function verifySignature(message: Uint8Array, signature: Uint8Array, key: TrustedKey): boolean {
  return verifyPayload(key.publicKey, message, signature);
}

/** What a signature is over: the DSSE PAE (the standard, the default), or the raw payload. */
export type SignatureOver = 'pae' | 'payload';

export interface VerifyEnvelopeOptions {
  /**
   * `payload`: Ed25519 signatures are checked over the decoded payload bytes instead of the PAE (ReleaseGate's
   * Ed25519 mode signs so). Only when a caller asks: such a signature does not bind the payload type, which is
   * what PAE exists for. ECDSA keys are always checked over the PAE.
   */
  signatureOver?: SignatureOver;
}

/**
 * Verifies every signature of an envelope against the trusted keys. A signature with a keyid is checked
 * only with keys of that id (or keys marked `anyKeyid`); one without a keyid with every key.
 */
export function verifyEnvelope(
  envelope: Envelope,
  keys: readonly TrustedKey[],
  options: VerifyEnvelopeOptions = {},
): EnvelopeVerification {
  const encoded = pae(envelope.payloadType, envelope.payload);
  const raw = options.signatureOver === 'payload';
  const messageFor = (k: TrustedKey) => (raw && k.algorithm === 'ed25519' ? envelope.payload : encoded);
  const signatures = envelope.signatures.map((s, index): SignatureResult => {
    const keyid = s.keyid ?? '';
    const candidates = keys.filter((k) => k.anyKeyid || keyid === '' || k.keyid === keyid);
    if (candidates.length === 0) return { index, keyid, valid: false, problem: 'unknown-keyid' };
    const match = candidates.find((k) => verifySignature(messageFor(k), s.sig, k));
    if (!match) return { index, keyid, valid: false, problem: 'invalid' };
    return { index, keyid, signer: match.keyid, fingerprint: match.fingerprint, valid: true };
  });
  const validSigners = [...new Set(signatures.filter((s) => s.valid).map((s) => s.signer!))];
  return { allValid: signatures.every((s) => s.valid), validSigners, signatures };
}
