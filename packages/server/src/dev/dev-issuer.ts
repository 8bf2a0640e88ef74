import { randomUUID, type webcrypto } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

/**
 * A JWT issuer for `serve --dev` and the tests: an ES256 key whose public half is the JWKS the server
 * trusts. It stands in for the Authority (OpToks) and the licensing service (PoE licence JWTs).
 */
export class DevIssuer {
  private constructor(
    readonly issuer: string,
    private readonly privateKey: webcrypto.CryptoKey,
    readonly publicJwk: JWK,
    readonly privateJwk: JWK,
  ) {}

  static async create(issuer: string): Promise<DevIssuer> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
    return new DevIssuer(issuer, privateKey as webcrypto.CryptoKey, publicJwk, privateJwk);
  }

  get jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  /** Signs `claims`; `iss`, `iat`, `jti` and (unless given) an `exp` of one hour are added. */
  async issue(claims: JWTPayload, options: { typ?: string } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iat: now, exp: now + 3600, jti: randomUUID(), ...claims, iss: claims.iss ?? this.issuer })
      .setProtectedHeader({ alg: 'ES256', kid: this.publicJwk.kid!, typ: options.typ ?? 'JWT' })
      .sign(this.privateKey);
  }
}
