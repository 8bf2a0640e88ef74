import { request as httpsRequest, Agent } from 'node:https';
import { request as httpRequest, Agent as HttpAgent, type IncomingHttpHeaders } from 'node:http';
import { CosignkitError } from '@cosignkit/core';
import { generateProof, type KeyPair } from 'dpop';
import { SIGN_ROUTE } from './routes.js';

export interface SignerClientOptions {
  /** The service's base URL (https://host:port). */
  url: string;
  /** The OpTok. */
  token: string;
  /** PEM: the CA that issued the server certificate, and the client certificate and key for mTLS. */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** For a DPoP-bound OpTok: the key pair the token is bound to (a fresh proof per request). */
  dpopKey?: KeyPair;
  /** Sent as X-Cosignkit-Client-Version. */
  clientVersion?: string;
  /** Per request (default 30 s). */
  timeoutMs?: number;
}

export interface SignDsseRequest {
  subject: { name: string; digest: Record<string, string> }[];
  predicateType: string;
  predicate: unknown;
  scannerImageDigest: string;
  poe: { format: 'jwt' | 'mtls'; value: string };
  options?: { signingMode?: 'kms' | 'keyless'; expirySeconds?: number };
}

export interface SignDsseResponse {
  envelope: { payloadType: string; payload: string; signatures: { keyid?: string; sig: string }[] };
  bundle: Record<string, unknown>;
  identity: {
    mode: 'kms' | 'keyless';
    keyId: string;
    publicKeyPem?: string;
    /** Keyless: PEM, leaf first; the certificate's SAN and the token's issuer. */
    certificateChain?: string[];
    subject?: string;
    issuer?: string;
  };
  quota: { plan: string; qps: number; remaining: number; resetMs: number };
  auditId: string;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: unknown;
}

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** A client of the signing service, for CI jobs (`cosignkit attest-blob --signer-url`) and programs. */
export class SignerClient {
  private readonly agent: Agent | HttpAgent;

  constructor(private readonly options: SignerClientOptions) {
    const https = options.url.startsWith('https:');
    this.agent = https
      ? new Agent({
          keepAlive: true,
          ...(options.ca ? { ca: options.ca } : {}),
          ...(options.cert ? { cert: options.cert } : {}),
          ...(options.key ? { key: options.key } : {}),
        })
      : new HttpAgent({ keepAlive: true });
  }

  /** Signs a statement; a refusal is a CosignkitError naming the status and the problem's detail. */
  async signDsse(body: SignDsseRequest): Promise<SignDsseResponse> {
    const response = await this.request('POST', SIGN_ROUTE, body);
    if (response.status !== 200) throw refusal(response);
    return response.body as SignDsseResponse;
  }

  /** One request, whatever the answer (tests look at refusals). */
  async request(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<RawResponse> {
    const url = new URL(path, this.options.url);
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    if (this.options.dpopKey) {
      headers.authorization = `DPoP ${this.options.token}`;
      headers.dpop = await generateProof(
        this.options.dpopKey,
        `${url.origin}${url.pathname}`,
        method,
        undefined,
        this.options.token,
      );
    } else {
      headers.authorization = `Bearer ${this.options.token}`;
    }
    if (this.options.clientVersion) headers['x-cosignkit-client-version'] = this.options.clientVersion;
    Object.assign(headers, extraHeaders);
    const payload =
      body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    if (payload) headers['content-type'] = 'application/json';
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<RawResponse>((resolve, reject) => {
      const req = send(
        url,
        { method, headers, agent: this.agent, timeout: this.options.timeoutMs ?? 30_000 },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES)
              req.destroy(new CosignkitError('REGISTRY_ERROR', 'the signer answered more than 16 MiB'));
            else chunks.push(chunk);
          });
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            if (/json/.test(res.headers['content-type'] ?? '')) {
              try {
                parsed = JSON.parse(text);
              } catch {
                // keep the text
              }
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new CosignkitError('TIMEOUT', `the signer at ${url.origin} did not answer in time`)),
      );
      req.on('error', (error) =>
        reject(
          CosignkitError.isInstance(error)
            ? error
            : new CosignkitError(
                'BACKEND_UNAVAILABLE',
                `the signer at ${url.origin} cannot be reached: ${error.message}`,
              ),
        ),
      );
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function refusal(response: RawResponse): CosignkitError {
  const problem = (typeof response.body === 'object' && response.body !== null ? response.body : {}) as Record<
    string,
    unknown
  >;
  const detail =
    typeof problem.detail === 'string' ? problem.detail.replace(/[\u0000-\u001f]/g, ' ') : `HTTP ${response.status}`;
  const code =
    response.status === 401 || response.status === 403
      ? 'VERIFICATION_FAILED'
      : response.status === 429 || response.status === 503
        ? 'BACKEND_UNAVAILABLE'
        : 'BACKEND_FAILURE';
  return new CosignkitError(
    code,
    `the signer refused (${response.status}${typeof problem.type === 'string' ? ` ${problem.type}` : ''}): ${detail}`,
    {
      details: {
        status: response.status,
        ...(typeof problem.auditId === 'string' ? { auditId: problem.auditId } : {}),
        ...(response.headers['retry-after'] ? { retryAfter: response.headers['retry-after'] } : {}),
      },
    },
  );
}
