import { CosignkitError } from '@cosignkit/core';

/** What cosignkit reads from an ID token before using it. The token itself is never put in a message. */
export interface IdentityTokenClaims {
  issuer: string;
  /** The subject Fulcio certifies: `email` when present (as cosign and Fulcio take it), else `sub`. */
  subject: string;
  audience: string[];
  /** Undefined when the token has no `exp`. */
  expiresAt?: Date;
}

/** Tokens are JWTs of a few KiB; anything far bigger is refused before decoding. */
export const IDENTITY_TOKEN_SIZE_LIMIT = 64 * 1024;

/**
 * Decodes (does not verify: Fulcio does) an OIDC ID token and refuses one that is malformed or expired, so
 * the user hears "expired" from cosignkit rather than an opaque 401 from the CA.
 */
export function parseIdentityToken(token: string, now = new Date()): IdentityTokenClaims {
  if (token.length > IDENTITY_TOKEN_SIZE_LIMIT)
    throw tokenError(`the identity token is over ${IDENTITY_TOKEN_SIZE_LIMIT} bytes`);
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p)))
    throw tokenError('the identity token is not a JWT');
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw tokenError("the identity token's claims are not JSON");
  }
  if (typeof claims !== 'object' || claims === null) throw tokenError("the identity token's claims are not an object");
  const issuer = claims.iss;
  if (typeof issuer !== 'string' || issuer === '') throw tokenError('the identity token has no issuer (iss)');
  const email = typeof claims.email === 'string' && claims.email !== '' ? claims.email : undefined;
  if (email !== undefined && claims.email_verified === false)
    throw tokenError(`the identity token's email is not verified by ${printable(issuer)}`);
  const subject = email ?? (typeof claims.sub === 'string' ? claims.sub : undefined);
  if (!subject) throw tokenError('the identity token has no subject (sub or email)');
  const audience =
    typeof claims.aud === 'string'
      ? [claims.aud]
      : Array.isArray(claims.aud)
        ? claims.aud.filter((a): a is string => typeof a === 'string')
        : [];
  const exp = typeof claims.exp === 'number' ? new Date(claims.exp * 1000) : undefined;
  if (exp && exp.getTime() <= now.getTime()) {
    throw tokenError(`the identity token from ${printable(issuer)} expired at ${exp.toISOString()}`);
  }
  return { issuer, subject, audience, ...(exp ? { expiresAt: exp } : {}) };
}

function tokenError(message: string): CosignkitError {
  return new CosignkitError('IDENTITY_TOKEN', message);
}

/** Claims come from outside: keep them printable and short in messages. */
export function printable(text: string): string {
  // \p{Cc} is exactly C0, DEL and C1 (U+0000-001F, U+007F-009F).
  const clean = text.replace(/\p{Cc}/gu, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}
