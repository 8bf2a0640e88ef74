import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWTPayload } from 'jose';
import { unauthenticated } from '../problem.js';
import { joseReason } from './op-token.js';
import { ExpiringSet } from '../expiring-set.js';

const DPOP_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'];

/**
 * RFC 9449 proof checks: a `dpop+jwt` signed by the embedded public key whose thumbprint the token's
 * `cnf.jkt` names, for this method and URL (`htu` without query or fragment), recent (`iat` within the
 * window), bound to this token (`ath`), and never seen before (`jti`, remembered for the window).
 */
export class DpopVerifier {
  private readonly seen: ExpiringSet;

  constructor(
    private readonly windowSeconds: number,
    maxRemembered = 200_000,
  ) {
    this.seen = new ExpiringSet(maxRemembered);
  }

  async verify(
    proof: string | undefined,
    expected: { method: string; url: string; accessToken: string; jkt: string },
  ): Promise<void> {
    const dpopError = (detail: string) =>
      unauthenticated(detail, { 'www-authenticate': 'DPoP error="invalid_dpop_proof"' });
    if (proof === undefined || proof === '')
      throw dpopError('the token is DPoP-bound and the request has no DPoP proof');
    if (proof.length > 8 * 1024 || proof.includes(',')) throw dpopError('the DPoP header must hold exactly one proof');
    let payload: JWTPayload;
    let jwk: Record<string, unknown>;
    try {
      const result = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: DPOP_ALGORITHMS });
      payload = result.payload;
      jwk = result.protectedHeader.jwk as Record<string, unknown>;
    } catch (error) {
      throw dpopError(`DPoP proof rejected: ${joseReason(error)}`);
    }
    if (
      (await calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0], 'sha256')) !== expected.jkt
    ) {
      throw dpopError('the DPoP proof is signed by another key than the token is bound to');
    }
    if (payload.htm !== expected.method) throw dpopError('the DPoP proof is for another HTTP method');
    if (typeof payload.htu !== 'string' || stripQuery(payload.htu) !== stripQuery(expected.url)) {
      throw dpopError('the DPoP proof is for another URL');
    }
    const now = Date.now() / 1000;
    if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > this.windowSeconds) {
      throw dpopError('the DPoP proof is too old or from the future');
    }
    const ath = createHash('sha256').update(expected.accessToken).digest('base64url');
    if (payload.ath !== ath) throw dpopError('the DPoP proof is not bound to this access token (ath)');
    if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256)
      throw dpopError('the DPoP proof has no jti');
    // Keyed by the key too: two clients choosing the same jti must not lock each other out.
    if (!this.seen.add(`${expected.jkt}:${payload.jti}`, (payload.iat + this.windowSeconds) * 1000)) {
      throw dpopError('the DPoP proof was already used (replay)');
    }
  }
}

function stripQuery(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host.toLowerCase()}${u.pathname}`;
  } catch {
    return '';
  }
}
