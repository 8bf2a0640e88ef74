/**
 * The one error class of cosignkit. `code` is public API (stable, documented); `message` is for people and
 * may change. Messages never contain passwords, PINs or key material.
 */
export type ErrorCode =
  // usage and the unexpected
  | 'USAGE' // a wrong flag, a missing argument
  | 'INTERNAL' // a bug: please report it
  // files
  | 'FILE_NOT_FOUND'
  | 'NOT_A_FILE' // a directory or other non-regular file where a file was expected
  | 'IO' // any other file-system failure
  | 'OUTPUT_EXISTS' // refusing to overwrite
  // keys and backends
  | 'KEY_REF_INVALID' // a key reference that cannot be parsed
  | 'KEY_NOT_FOUND'
  | 'KEY_EXISTS'
  | 'KEY_MALFORMED' // a key file or key blob that cannot be parsed
  | 'KEY_UNSUPPORTED' // parseable but refused (scrypt parameters, SEC1 plaintext, a non-EC key…)
  | 'PASSWORD_INCORRECT'
  | 'PASSWORD_REQUIRED' // no password source available (no COSIGN_PASSWORD, no TTY, no stdin)
  | 'PIN_INCORRECT'
  | 'ALGORITHM_UNSUPPORTED'
  | 'DIGEST_LENGTH' // a digest whose length does not match the key's hash
  | 'BACKEND_NOT_INSTALLED' // the package for a scheme is not installed
  | 'BACKEND_INCOMPATIBLE' // a backend with an unknown specVersion or shape
  | 'BACKEND_UNAVAILABLE' // the device, service, token or library cannot be reached
  | 'BACKEND_LOCKED' // a keyring or token that is locked
  | 'TOKEN_NOT_FOUND'
  | 'NOT_SUPPORTED' // the backend lacks the capability
  | 'BACKEND_FAILURE' // the backend reported an error it could not classify
  | 'AGENT_UNTRUSTED' // the agent's directory, socket or token file is not private, or its server did not prove the token
  // signatures and verification
  | 'SIGNATURE_MALFORMED'
  | 'BUNDLE_MALFORMED'
  | 'ENVELOPE_MALFORMED'
  | 'VERIFICATION_FAILED'
  // OCI registries
  | 'REGISTRY_UNAVAILABLE' // the registry cannot be reached
  | 'REGISTRY_AUTH' // credentials missing or refused
  | 'IMAGE_NOT_FOUND' // no such repository, tag or manifest
  | 'NOT_AN_IMAGE' // a manifest of a kind that cannot be signed or read here
  | 'REGISTRY_ERROR' // any other registry answer
  // the cosign runner
  | 'COSIGN_NOT_FOUND'
  | 'COSIGN_UNSUPPORTED'
  | 'COSIGN_FAILED'
  | 'TIMEOUT'
  | 'ABORTED';

const BRAND = Symbol.for('cosignkit.error');

export interface CosignkitErrorOptions {
  cause?: unknown;
  /** Extra, non-secret facts for programs (exit code of a child, a line number…). */
  details?: Record<string, unknown>;
}

export class CosignkitError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options: CosignkitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CosignkitError';
    this.code = code;
    this.details = options.details ?? {};
  }

  /** True for a CosignkitError from any copy of this package (two versions may be installed at once). */
  static isInstance(value: unknown): value is CosignkitError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** Codes meaning "the input could not be parsed" (CLI exit code 3). */
export const MALFORMED_INPUT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'KEY_MALFORMED',
  'SIGNATURE_MALFORMED',
  'BUNDLE_MALFORMED',
  'ENVELOPE_MALFORMED',
]);

/** Wraps anything thrown at a boundary into a CosignkitError, keeping the original as `cause`. */
export function toCosignkitError(error: unknown, fallback: ErrorCode = 'INTERNAL'): CosignkitError {
  if (CosignkitError.isInstance(error)) return error;
  if (isAbortError(error)) return new CosignkitError('ABORTED', 'the operation was aborted', { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new CosignkitError(fallback, message, { cause: error });
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || (error as { code?: string }).code === 'ABORT_ERR');
}
