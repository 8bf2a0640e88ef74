import { CosignkitError, type ErrorCode } from '@cosignkit/core';

// CK_RV values (PKCS#11 v2.40 §11.1) that map to something a user can act on.
const CODES: Readonly<Record<number, ErrorCode>> = {
  0x00a0: 'PIN_INCORRECT', // CKR_PIN_INCORRECT
  0x00a1: 'PIN_INCORRECT', // CKR_PIN_INVALID
  0x00a2: 'PIN_INCORRECT', // CKR_PIN_LEN_RANGE
  0x00a4: 'BACKEND_LOCKED', // CKR_PIN_LOCKED
  0x00a3: 'BACKEND_LOCKED', // CKR_PIN_EXPIRED
  0x0101: 'BACKEND_LOCKED', // CKR_USER_NOT_LOGGED_IN
  0x00e0: 'TOKEN_NOT_FOUND', // CKR_TOKEN_NOT_PRESENT
  0x00e1: 'TOKEN_NOT_FOUND', // CKR_TOKEN_NOT_RECOGNIZED
  0x0032: 'TOKEN_NOT_FOUND', // CKR_DEVICE_REMOVED
  0x0003: 'TOKEN_NOT_FOUND', // CKR_SLOT_ID_INVALID
  0x0030: 'BACKEND_UNAVAILABLE', // CKR_DEVICE_ERROR
  0x0031: 'BACKEND_UNAVAILABLE', // CKR_DEVICE_MEMORY
  0x0082: 'KEY_NOT_FOUND', // CKR_OBJECT_HANDLE_INVALID
  0x0060: 'KEY_NOT_FOUND', // CKR_KEY_HANDLE_INVALID
  0x0070: 'ALGORITHM_UNSUPPORTED', // CKR_MECHANISM_INVALID
  0x0063: 'ALGORITHM_UNSUPPORTED', // CKR_KEY_TYPE_INCONSISTENT
  0x0068: 'NOT_SUPPORTED', // CKR_KEY_FUNCTION_NOT_PERMITTED
  0x0011: 'NOT_SUPPORTED', // CKR_ATTRIBUTE_SENSITIVE
  0x00e2: 'NOT_SUPPORTED', // CKR_TOKEN_WRITE_PROTECTED
};

export const CKR_USER_ALREADY_LOGGED_IN = 0x0100;
export const CKR_USER_NOT_LOGGED_IN = 0x0101;
export const CKR_OBJECT_HANDLE_INVALID = 0x0082;
export const CKR_KEY_HANDLE_INVALID = 0x0060;

/** The CK_RV of a pkcs11js error, or undefined for anything else. */
export function pkcs11Code(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** True when a cached object handle went stale (logout, deletion by another process). */
export function isStaleHandle(error: unknown): boolean {
  const code = pkcs11Code(error);
  return code === CKR_OBJECT_HANDLE_INVALID || code === CKR_KEY_HANDLE_INVALID;
}

/**
 * Wraps an error from graphene/pkcs11js at the boundary. `what` says what was being done, in words safe to
 * show; the library's own message is a CKR_ name (never a PIN), kept in the message and as `cause`.
 */
export function wrapPkcs11Error(error: unknown, what: string): CosignkitError {
  if (CosignkitError.isInstance(error)) return error;
  const rv = pkcs11Code(error);
  const name = error instanceof Error ? error.message : String(error);
  const code: ErrorCode = rv === undefined ? 'BACKEND_FAILURE' : (CODES[rv] ?? 'BACKEND_FAILURE');
  const message = code === 'PIN_INCORRECT' ? `${what}: the PIN is incorrect (${name})` : `${what}: ${name}`;
  return new CosignkitError(code, message, { cause: error, details: rv === undefined ? {} : { ckr: rv } });
}
