import type { KeyObject } from 'node:crypto';
import type { SignatureCheck } from '@cosignkit/core';
import type { EnvelopeJson } from '@cosignkit/dsse';

/**
 * What a keyless image signature is checked with. The registry layouts stay here; the Sigstore checks
 * (Fulcio chain, SCT, Rekor SET or proof, RFC 3161 timestamps, identity policy) are the caller's, so this
 * package never depends on sigstore-js: the roles pass @cosignkit/sigstore's verifier in.
 */
export interface KeylessSignatureVerifier {
  /**
   * A `.sig` (message) or `.att` (DSSE) layer whose certificate, chain, Rekor bundle and timestamp are in
   * the layer's annotations (`dev.sigstore.cosign/certificate`, `…/chain`, `…/bundle`, `…/rfc3161timestamp`).
   */
  verifyLayer(
    signed: { kind: 'message'; payload: Buffer; signature: Buffer } | { kind: 'dsse'; envelope: EnvelopeJson },
    annotations: Record<string, string>,
    where: string,
  ): KeylessCheck;
  /** A Sigstore bundle referrer; its DSSE statement must name `subjectDigest` (`sha256:<hex>`). */
  verifyBundle(bundle: Buffer, subjectDigest: string, where: string): KeylessCheck;
}

/** The outcome of one keyless check: what failed (one line each), and who signed, when, in which log. */
export interface KeylessCheck {
  verified: boolean;
  failures: string[];
  /** Set when the input could not be read at all (a malformed code such as BUNDLE_MALFORMED). */
  malformed?: { code: import('@cosignkit/core').ErrorCode; message: string };
  /** The signer's certificate identity, the log entries and timestamps used. */
  check?: SignatureCheck;
}

/** Public keys (any may sign), or a keyless verifier. */
export type SignatureTrust = readonly KeyObject[] | KeylessSignatureVerifier;

export function isKeyless(trust: SignatureTrust): trust is KeylessSignatureVerifier {
  return !Array.isArray(trust);
}
