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

/**
 * Keys and a keyless verifier at once (e.g. a release trusted when signed by a key or by an identity): each
 * signature is judged by what it carries, one with a certificate by the keyless verifier and any other by the
 * keys, so that both kinds are judged in one read of the registry.
 */
export interface KeysAndKeylessTrust {
  keys: readonly KeyObject[];
  keyless: KeylessSignatureVerifier;
}

/** Public keys (any may sign), a keyless verifier, or both. */
export type SignatureTrust = readonly KeyObject[] | KeylessSignatureVerifier | KeysAndKeylessTrust;

/** The annotation that makes a `.sig`/`.att` layer keyless (cosign 2.x): the signer's certificate. */
export const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';

export function isKeyless(trust: SignatureTrust): trust is KeylessSignatureVerifier {
  return !Array.isArray(trust) && !isKeysAndKeyless(trust);
}

export function isKeysAndKeyless(trust: SignatureTrust): trust is KeysAndKeylessTrust {
  return !Array.isArray(trust) && 'keys' in trust && 'keyless' in trust;
}

/** Whether a Sigstore bundle names a certificate (keyless) rather than a key hint; false when not JSON. */
export function bundleCarriesCertificate(bundle: Buffer): boolean {
  let material: unknown;
  try {
    material = (JSON.parse(bundle.toString('utf8')) as { verificationMaterial?: unknown } | null)?.verificationMaterial;
  } catch {
    return false;
  }
  return (
    typeof material === 'object' &&
    material !== null &&
    ('certificate' in material || 'x509CertificateChain' in material)
  );
}
