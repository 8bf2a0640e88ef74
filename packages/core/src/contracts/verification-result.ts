import type { ErrorCode } from '../errors.js';
import type { Digest } from './roles.js';

export type EngineName = 'native' | 'cosign';

export interface SignatureCheck {
  verified: boolean;
  /** Hex SHA-256 of the verifying public key's SPKI DER (key-based signatures). */
  keyFingerprint?: string;
  /** Certificate identity and issuer (keyless signatures); all SANs and Fulcio's extensions when known. */
  certificate?: {
    identity: string;
    issuer: string;
    subjectAlternativeNames?: string[];
    extensions?: Record<string, string>;
  };
  /** Transparency-log facts, when a log entry was present (the first entry's, when there are several). */
  logIndex?: number;
  integratedTime?: Date;
  /** Every transparency-log entry the verification used. */
  tlogEntries?: TlogEntryCheck[];
  /** Every verified time the certificate was checked at (RFC 3161 timestamps, log integration times). */
  timestamps?: TimestampCheck[];
}

export interface TlogEntryCheck {
  /** Hex log id (SHA-256 of the log's public key). */
  logId: string;
  logIndex: number;
  /** Absent for logs without integration times (Rekor v2). */
  integratedTime?: Date;
  /** The entry's kind and version, e.g. `hashedrekord` `0.0.1`. */
  kind: string;
  version: string;
}

export interface TimestampCheck {
  source: 'timestamp-authority' | 'transparency-log';
  time: Date;
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
