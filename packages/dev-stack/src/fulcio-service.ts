import { generateKeyPairSync, verify as verifySignature } from 'node:crypto';
import { fulcioHandler } from '@sigstore/mock/dist/fulcio/handler.js';
import { initializeCA, type CA } from '@sigstore/mock/dist/fulcio/ca.js';
import { initializeCTLog, type CTLog } from '@sigstore/mock/dist/fulcio/ctlog.js';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { HttpService, json, type RouteResult } from './http-service.js';

export interface FulcioOptions {
  /** The one OIDC issuer this Fulcio trusts; its keys come from its discovery document, as real Fulcio does. */
  issuerUrl: string;
  /** The audience Fulcio requires in tokens (real Fulcio: its client id, "sigstore"). */
  audience?: string;
}

/**
 * Fulcio on @sigstore/mock's CA and CT log, behind the checks the mock leaves out: the OIDC token must verify
 * against the issuer's JWKS (signature, issuer, audience, expiry) and the proof of possession must be a
 * signature over the token's subject by the key being certified. Only then does the mock issue a certificate.
 */
export class FulcioService {
  readonly service = new HttpService('fulcio');
  ca!: CA;
  ctLog!: CTLog;
  readonly ctLogKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  readonly caKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  /** Certificates issued so far (both APIs): tests observe how often a client asks. */
  certificatesIssued = 0;

  constructor(readonly options: FulcioOptions) {}

  async start(): Promise<string> {
    this.ctLog = await initializeCTLog(this.ctLogKeys);
    this.ca = await initializeCA(this.caKeys, this.ctLog);
    const mock = fulcioHandler(this.ca, { strict: true });
    const jwks = createRemoteJWKSet(new URL(`${this.options.issuerUrl}/jwks`), { timeoutDuration: 5000 });
    this.service.route('POST', mock.path, async (request) => {
      const body = request.body.toString('utf8');
      const refusal = await this.#check(body, jwks);
      if (refusal) return refusal;
      const answer = (await mock.fn(body)) as RouteResult;
      if (answer.statusCode === 201) this.certificatesIssued++;
      return answer;
    });
    // cosign 2.x speaks Fulcio's legacy v1 API: bearer token, `{publicKey: {content: b64 DER}, signedEmailAddress}`
    // in, a PEM chain out. It is translated to the v2 request and back.
    this.service.route('POST', '/api/v1/signingCert', async (request) => {
      const v2Body = legacyToV2(request.body.toString('utf8'), String(request.headers.authorization ?? ''));
      if (typeof v2Body !== 'string') return v2Body;
      const refusal = await this.#check(v2Body, jwks);
      if (refusal) return refusal;
      const answer = await mock.fn(v2Body);
      if (answer.statusCode !== 201) return answer as RouteResult;
      this.certificatesIssued++;
      const chain = (
        JSON.parse(String(answer.response)) as { signedCertificateEmbeddedSct: { chain: { certificates: string[] } } }
      ).signedCertificateEmbeddedSct.chain.certificates;
      return {
        statusCode: 201,
        contentType: 'application/pem-certificate-chain',
        response: chain.map((c) => `${c.trimEnd()}\n`).join(''),
      };
    });
    // Clients read the chain before signing (cosign `--fulcio-url`, sigstore-go); answer it like Fulcio v2.
    this.service.route('GET', '/api/v2/trustBundle', async () => ({
      statusCode: 200,
      contentType: 'application/json',
      response: json({ chains: [{ certificates: [toPem(Buffer.from(this.ca.rootCertificate.buffer))] }] }),
    }));
    return this.service.listen();
  }

  async #check(body: string, jwks: ReturnType<typeof createRemoteJWKSet>): Promise<RouteResult | undefined> {
    let request: {
      credentials?: { oidcIdentityToken?: unknown };
      publicKeyRequest?: { publicKey?: { content?: unknown }; proofOfPossession?: unknown };
    };
    try {
      request = JSON.parse(body) as typeof request;
    } catch {
      return refuse(400, 3, 'request is not JSON');
    }
    const token = request.credentials?.oidcIdentityToken;
    if (typeof token !== 'string') return refuse(401, 16, 'no OIDC identity token');
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, jwks, {
        issuer: this.options.issuerUrl,
        audience: this.options.audience ?? 'sigstore',
        algorithms: ['ES256'],
      }));
    } catch (error) {
      // Real Fulcio answers 401 Unauthenticated for any token it cannot verify.
      const unverified = safeDecode(token);
      const why = error instanceof Error ? error.message : 'invalid token';
      return refuse(
        401,
        16,
        `error processing the identity token${unverified?.iss ? ` from ${unverified.iss}` : ''}: ${why}`,
      );
    }
    const keyRequest = request.publicKeyRequest;
    if (keyRequest) {
      const pem = keyRequest.publicKey?.content;
      const proof = keyRequest.proofOfPossession;
      if (typeof pem !== 'string' || typeof proof !== 'string')
        return refuse(400, 3, 'publicKeyRequest needs publicKey.content and proofOfPossession');
      const subjects = [claims.email, claims.sub].filter((s): s is string => typeof s === 'string');
      let proven = false;
      for (const subject of subjects) {
        try {
          if (verifySignature('sha256', Buffer.from(subject), pem, Buffer.from(proof, 'base64'))) proven = true;
        } catch {
          return refuse(400, 3, 'the public key cannot be parsed');
        }
      }
      if (!proven) return refuse(400, 3, 'the proof of possession does not verify against the public key');
    }
    return undefined;
  }
}

function legacyToV2(body: string, authorization: string): string | RouteResult {
  let legacy: { publicKey?: { content?: unknown }; signedEmailAddress?: unknown };
  try {
    legacy = JSON.parse(body) as typeof legacy;
  } catch {
    return refuse(400, 3, 'request is not JSON');
  }
  const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
  if (!token) return refuse(401, 16, 'no bearer token');
  if (typeof legacy.publicKey?.content !== 'string' || typeof legacy.signedEmailAddress !== 'string') {
    return refuse(400, 3, 'this Fulcio takes publicKey.content and signedEmailAddress');
  }
  // The key arrives base64-encoded, as PEM (cosign 2.x) or as DER (older clients).
  const raw = Buffer.from(legacy.publicKey.content, 'base64');
  const pem =
    raw.subarray(0, 11).toString('latin1') === '-----BEGIN ' ? raw.toString('utf8') : toPem(raw, 'PUBLIC KEY');
  return JSON.stringify({
    credentials: { oidcIdentityToken: token },
    publicKeyRequest: { publicKey: { algorithm: 'ECDSA', content: pem }, proofOfPossession: legacy.signedEmailAddress },
  });
}

function refuse(statusCode: number, grpcCode: number, message: string): RouteResult {
  return { statusCode, response: json({ code: grpcCode, message }), contentType: 'application/json' };
}

function safeDecode(token: string): JWTPayload | undefined {
  try {
    return decodeJwt(token);
  } catch {
    return undefined;
  }
}

export function toPem(der: Buffer, label = 'CERTIFICATE'): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
