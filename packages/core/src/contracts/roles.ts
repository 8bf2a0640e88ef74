import type { EngineName, VerificationResult } from './verification-result.js';

export interface SignBlobOptions {
  /** A key reference (`cosign.key`, `pkcs11:…`, `tpm:…`, …); the configured default key when absent. */
  key?: string;
  /** Where to write the base64 signature. */
  outputSignature?: string;
  /** Where to write a Sigstore bundle (v0.3, key-based, no transparency log). */
  bundle?: string;
  signal?: AbortSignal;
}

export interface SignBlobResult {
  engine: EngineName;
  /** Base64 of the ASN.1 DER (ECDSA) or raw (Ed25519) signature. */
  signature: string;
  digest: { algorithm: 'sha256' | 'sha384' | 'sha512'; hex: string };
  keyFingerprint: string;
  signaturePath?: string;
  bundlePath?: string;
}

export interface VerifyLocalOptions {
  /** A public key PEM file or any key reference whose public key is used. */
  key: string;
  /** A file holding a base64 (or raw DER) signature. */
  signature?: string;
  /** A Sigstore bundle (v0.1–v0.3) or cosign's legacy `{"base64Signature": …}` bundle. */
  bundle?: string;
  signal?: AbortSignal;
}

/** The Signer role (pyCosign design). OCI methods arrive with the registry issue. */
export interface Signer {
  signBlobLocal(file: string, options: SignBlobOptions): Promise<SignBlobResult>;
}

/** The Verifier role. Verification failures are results (verified: false); unusable input throws. */
export interface Verifier {
  verifyLocal(file: string, options: VerifyLocalOptions): Promise<VerificationResult>;
}
