import { randomBytes, timingSafeEqual } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import { HttpService, json, type RouteResult } from './http-service.js';
import { InteractiveGrants } from './interactive-grants.js';

export interface TokenOptions {
  /** Default "sigstore", the audience Fulcio expects. */
  audience?: string;
  /** Seconds the token is valid from now; negative gives an already-expired token (for tests of refusal). */
  ttlSeconds?: number;
  /** Default: the stack's identity. */
  subject?: string;
  /** The authorization request's nonce, echoed in the ID token. */
  nonce?: string;
}

/** The longest and the most negative lifetime the token endpoint grants. */
const MAX_TTL_SECONDS = 24 * 3600;
const DEFAULT_TTL_SECONDS = 3600;

/**
 * A small OIDC issuer for the dev stack: a discovery document, a JWKS and these ways to get an ID token:
 * `POST /token` (client_credentials, no secret: the stack is a loopback development tool), the interactive
 * grants cosign uses (`GET /authorize` with PKCE to a loopback redirect, and the device flow:
 * `POST /device/code`, approved by `GET /device?user_code=…`; see interactive-grants.ts), and
 * `GET /actions/token`, shaped like GitHub Actions' ID-token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`,
 * bearer `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answer `{"value": jwt}`) so ambient-credential code runs for real.
 * Tokens are ES256 JWTs signed with a key made at start-up and never written anywhere.
 */
export class OidcIssuer {
  readonly service = new HttpService('oidc');
  /** The bearer the Actions-style endpoint requires. */
  readonly actionsRequestToken = randomBytes(24).toString('base64url');
  #privateKey!: KeyLike;
  #jwk!: JWK;
  readonly #kid = randomBytes(8).toString('hex');
  readonly #grants = new InteractiveGrants();

  constructor(readonly identity: string) {}

  async start(): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    this.#privateKey = privateKey;
    this.#jwk = { ...(await exportJWK(publicKey)), kid: this.#kid, alg: 'ES256', use: 'sig' };
    this.service
      .route('GET', '/.well-known/openid-configuration', async () => ok(this.discovery()))
      .route('GET', '/jwks', async () => ok({ keys: [this.#jwk] }))
      .route('POST', '/token', async (request) =>
        this.#tokenEndpoint(new URLSearchParams(request.body.toString('utf8'))),
      )
      .route('GET', '/authorize', async (request) => {
        const answer = this.#grants.authorize(request.query);
        if ('error' in answer)
          return {
            statusCode: 400,
            response: json({ error: answer.error, error_description: answer.description }),
            contentType: 'application/json',
          };
        return { statusCode: 302, response: '', headers: { location: answer.redirect.href } };
      })
      .route('POST', '/device/code', async (request) => {
        const answer = this.#grants.startDevice(new URLSearchParams(request.body.toString('utf8')), this.url);
        return 'error' in answer ? oauthError(answer.error as string) : ok(answer);
      })
      .route('GET', '/device', async (request) =>
        this.#grants.approveDevice(request.query.get('user_code') ?? '')
          ? { statusCode: 200, response: 'approved\n' }
          : { statusCode: 404, response: 'no such code\n' },
      )
      .route('GET', '/actions/token', async (request) => {
        const auth = String(request.headers.authorization ?? '');
        if (!bearerMatches(auth, this.actionsRequestToken))
          return { statusCode: 401, response: json({ message: 'bad request token' }), contentType: 'application/json' };
        const answer = await this.#tokenEndpoint(request.query);
        if (answer.statusCode !== 200) return answer;
        return ok({ value: (JSON.parse(String(answer.response)) as { id_token: string }).id_token });
      });
    return this.service.listen();
  }

  get url(): string {
    return this.service.url;
  }

  discovery(): Record<string, unknown> {
    return {
      issuer: this.url,
      jwks_uri: `${this.url}/jwks`,
      token_endpoint: `${this.url}/token`,
      authorization_endpoint: `${this.url}/authorize`,
      device_authorization_endpoint: `${this.url}/device/code`,
      response_types_supported: ['code', 'id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      grant_types_supported: [
        'client_credentials',
        'authorization_code',
        'urn:ietf:params:oauth:grant-type:device_code',
      ],
      claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'email', 'email_verified'],
    };
  }

  /** A signed ID token whose issuer is this issuer's URL and whose subject (and email, if it is one) is the identity. */
  async issueToken(options: TokenOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const ttl = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    const subject = options.subject ?? this.identity;
    const claims: Record<string, unknown> = {};
    // Fulcio and cosign take `email` over `sub` when present (and require email_verified).
    if (/^[^@\s/]+@[^@\s/]+$/.test(subject)) Object.assign(claims, { email: subject, email_verified: true });
    if (options.nonce !== undefined) claims.nonce = options.nonce;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: this.#kid, typ: 'JWT' })
      .setIssuer(this.url)
      .setSubject(subject)
      .setAudience(options.audience ?? 'sigstore')
      .setIssuedAt(Math.min(now, now + ttl - 60))
      .setExpirationTime(now + ttl)
      .sign(this.#privateKey);
  }

  async #tokenEndpoint(params: URLSearchParams): Promise<RouteResult> {
    const grant = params.get('grant_type');
    if (grant === 'authorization_code' || grant === 'urn:ietf:params:oauth:grant-type:device_code') {
      const redeemed =
        grant === 'authorization_code' ? this.#grants.redeemCode(params) : this.#grants.redeemDevice(params);
      if ('error' in redeemed) return oauthError(redeemed.error);
      const nonce = (redeemed as { nonce?: string }).nonce;
      const token = await this.issueToken({ audience: redeemed.clientId, ...(nonce !== undefined ? { nonce } : {}) });
      return ok({ access_token: token, id_token: token, token_type: 'Bearer', expires_in: DEFAULT_TTL_SECONDS });
    }
    if (grant !== null && grant !== 'client_credentials') return oauthError('unsupported_grant_type');
    const ttlText = params.get('ttl');
    const ttl = ttlText === null ? DEFAULT_TTL_SECONDS : Number(ttlText);
    if (!Number.isInteger(ttl) || Math.abs(ttl) > MAX_TTL_SECONDS) return oauthError('invalid_request');
    const audience = params.get('audience') ?? undefined;
    const token = await this.issueToken({ audience, ttlSeconds: ttl });
    return ok({ access_token: token, id_token: token, token_type: 'Bearer', expires_in: Math.max(ttl, 0) });
  }
}

function ok(body: unknown): RouteResult {
  return { statusCode: 200, response: json(body), contentType: 'application/json' };
}

function oauthError(error: string): RouteResult {
  return { statusCode: 400, response: json({ error }), contentType: 'application/json' };
}

function bearerMatches(header: string, expected: string): boolean {
  const given = Buffer.from(header.replace(/^Bearer\s+/i, ''));
  const want = Buffer.from(expected);
  return given.length === want.length && timingSafeEqual(given, want);
}
