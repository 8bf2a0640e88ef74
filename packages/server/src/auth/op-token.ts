import { createHash, X509Certificate } from 'node:crypto';
import { errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { ServerConfig } from '../config.js';
import { forbidden, malformed, unauthenticated } from '../problem.js';
import type { DpopVerifier } from './dpop-proof.js';
import { TtlCache } from '../expiring-set.js';

/** A verified token's claims are reused this long at most (and never past its exp). */
const TOKEN_CACHE_MS = 60_000;

/** Who called: from a validated, sender-bound OpTok. */
export interface Caller {
  /** The OpTok's `sub`. */
  subject: string;
  tenant: string;
  /** How the token was bound to the sender. */
  binding: 'dpop' | 'mtls';
  /** SHA-256 thumbprint (base64url) of the TLS client certificate, when one was presented. */
  certThumbprint?: string;
}

export interface RequestCredentials {
  authorization: string | undefined;
  dpop: string | undefined;
  method: string;
  /** The request URL as the caller addressed it (for DPoP `htu`). */
  url: string;
  /** The verified TLS client certificate, if any. */
  clientCert: X509Certificate | undefined;
}

export const SIGN_SCOPE = 'signer.sign';

/**
 * Validates an Authority OpTok (RFC 9068-style JWT) and its binding to the sender: `cnf.jkt` needs a valid
 * DPoP proof (RFC 9449), `cnf.x5t#S256` the matching TLS client certificate (RFC 8705). An unbound token is
 * refused: a bearer token copied out of a CI log must not be enough to sign.
 */
export class OpTokValidator {
  // Signature and claim checks of a token are the same on every request it comes with: remember the claims
  // (keyed by the token itself) so a CI job's burst costs one verification. Binding is checked every time.
  private readonly verified = new TtlCache<JWTPayload>(10_000);

  constructor(
    private readonly config: ServerConfig['authority'],
    private readonly keys: JWTVerifyGetKey,
    private readonly dpop: DpopVerifier,
  ) {}

  async validate(credentials: RequestCredentials, scope = SIGN_SCOPE): Promise<Caller> {
    const { scheme, token } = parseAuthorization(credentials.authorization);
    let claims = this.verified.get(token);
    if (claims === undefined) {
      try {
        ({ payload: claims } = await jwtVerify(token, this.keys, {
          issuer: this.config.issuer,
          audience: this.config.audience,
          algorithms: this.config.algorithms,
          requiredClaims: ['exp', 'sub'],
          clockTolerance: 5,
        }));
      } catch (error) {
        throw unauthenticated(`operation token rejected: ${joseReason(error)}`);
      }
      this.verified.set(token, claims, Math.min(TOKEN_CACHE_MS, claims.exp! * 1000 - Date.now()));
    } else if (claims.exp! * 1000 <= Date.now()) {
      throw unauthenticated('operation token rejected: expired');
    }
    const scopes =
      typeof claims.scope === 'string' ? claims.scope.split(' ') : Array.isArray(claims.scp) ? claims.scp : [];
    if (!scopes.includes(scope))
      throw forbidden('insufficient-scope', 'Insufficient scope', `the operation token lacks the scope ${scope}`);
    const tenant = claims.tenant ?? claims.tid;
    if (typeof tenant !== 'string' || tenant === '')
      throw forbidden('wrong-tenant', 'Tenant not allowed', 'the operation token names no tenant');
    if (this.config.tenants && !this.config.tenants.includes(tenant)) {
      throw forbidden(
        'wrong-tenant',
        'Tenant not allowed',
        'the operation token is for a tenant this signer does not serve',
      );
    }
    const cnf = (typeof claims.cnf === 'object' && claims.cnf !== null ? claims.cnf : {}) as Record<string, unknown>;
    const caller: Caller = { subject: claims.sub!, tenant, binding: 'mtls' };
    if (credentials.clientCert) caller.certThumbprint = certificateThumbprint(credentials.clientCert);
    if (typeof cnf.jkt === 'string') {
      if (scheme !== 'dpop')
        throw unauthenticated('a DPoP-bound token must be sent with the DPoP authorization scheme');
      await this.dpop.verify(credentials.dpop, {
        method: credentials.method,
        url: credentials.url,
        accessToken: token,
        jkt: cnf.jkt,
      });
      caller.binding = 'dpop';
      return caller;
    }
    if (typeof cnf['x5t#S256'] === 'string') {
      if (caller.certThumbprint === undefined)
        throw unauthenticated('the token is bound to a client certificate and none was presented');
      if (caller.certThumbprint !== cnf['x5t#S256'])
        throw unauthenticated('the token is bound to another client certificate');
      return caller;
    }
    throw unauthenticated('the operation token is not sender-constrained (no cnf.jkt or cnf.x5t#S256)');
  }
}

// The server keeps one X509Certificate per connection, so a connection's requests hash its DER once.
const thumbprints = new WeakMap<X509Certificate, string>();

/** RFC 8705 §3.1: base64url SHA-256 of the certificate's DER. */
export function certificateThumbprint(cert: X509Certificate): string {
  let thumbprint = thumbprints.get(cert);
  if (thumbprint === undefined) {
    thumbprint = createHash('sha256').update(cert.raw).digest('base64url');
    thumbprints.set(cert, thumbprint);
  }
  return thumbprint;
}

function parseAuthorization(header: string | undefined): { scheme: 'bearer' | 'dpop'; token: string } {
  if (header === undefined || header === '') throw unauthenticated('missing Authorization header');
  const match = /^(Bearer|DPoP) ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
  if (!match) throw unauthenticated('Authorization must be "Bearer <token>" or "DPoP <token>"');
  if (match[2]!.length > 16 * 1024) throw malformed('the operation token is too long');
  return { scheme: match[1]!.toLowerCase() as 'bearer' | 'dpop', token: match[2]! };
}

/** jose's reason, without echoing claim values a caller controls. */
export function joseReason(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim ${error.claim} is not acceptable`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'signed by an unknown key';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof joseErrors.JWTInvalid || error instanceof joseErrors.JWSInvalid) return 'malformed token';
  if (error instanceof joseErrors.JOSEError) return error.code;
  return 'malformed token';
}

/** x5t#S256 of a PEM certificate (what an mtls PoE carries). */
export function certificateThumbprintOfPem(pem: string): string {
  return certificateThumbprint(new X509Certificate(pem));
}
