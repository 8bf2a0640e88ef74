import type { ErrorCode } from '../errors.js';
import type { Digest } from './roles.js';

export type EngineName = 'native' | 'cosign';

export interface SignatureCheck {
  verified: boolean;
  /** Hex SHA-256 of the verifying public key's SPKI DER (key-based signatures). */
  keyFingerprint?: string;
  /** Certificate identity and issuer (keyless signatures). */
  certificate?: { identity: string; issuer: string };
  /** Transparency-log facts, when a log entry was present. */
  logIndex?: number;
  integratedTime?: Date;
}

export interface VerificationFailure {
  code: ErrorCode;
  message: string;
}

/** What every verification returns: a verdict, the artifact digest, each signature, and what failed. */
export interface VerificationResult {
  verified: boolean;
  engine: EngineName;
  artifact: { path?: string; digest: Digest };
  signatures: SignatureCheck[];
  failures: VerificationFailure[];
}
