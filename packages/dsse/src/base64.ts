import { CosignkitError, type ErrorCode } from '@cosignkit/core';

const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Decodes standard or URL-safe base64, padded or not, and refuses anything else. Node's own decoder skips
 * invalid characters silently, which would let a damaged signature or payload pass as a different one.
 */
export function decodeBase64(value: string, what: string, code: ErrorCode = 'ENVELOPE_MALFORMED'): Buffer {
  const alphabetOk = STANDARD.test(value) || URL_SAFE.test(value);
  const padded = value.endsWith('=');
  const lengthOk = padded ? value.length % 4 === 0 : value.length % 4 !== 1;
  if (!alphabetOk || !lengthOk) throw new CosignkitError(code, `${what} is not valid base64`);
  return Buffer.from(value, URL_SAFE.test(value) && !STANDARD.test(value) ? 'base64url' : 'base64');
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
