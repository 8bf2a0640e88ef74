import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long an authorization code or a device code may wait to be redeemed. */
const CODE_TTL_MS = 60_000;
const DEVICE_TTL_MS = 300_000;
/** At most this many pending codes of each kind: a loop of requests cannot grow the stack without bound. */
const MAX_PENDING = 1000;

export type GrantError =
  | 'invalid_request'
  | 'invalid_grant'
  | 'authorization_pending'
  | 'expired_token'
  | 'unsupported_response_type';

interface PendingCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce?: string;
  expires: number;
}

interface PendingDevice {
  clientId: string;
  userCode: string;
  approved: boolean;
  expires: number;
}

/**
 * The interactive grants of the dev stack's OIDC issuer, for tests and local use of cosign-style sign-in:
 * the authorization-code grant with PKCE (S256 only; the stack's one user consents at once, so "the browser"
 * is any HTTP client that follows the redirect) to a loopback redirect URI, and the device-authorization
 * grant (RFC 8628), whose user code is approved by a GET of the verification URI. Codes are single-use and
 * short-lived.
 */
export class InteractiveGrants {
  readonly #codes = new Map<string, PendingCode>();
  readonly #devices = new Map<string, PendingDevice>();

  /** GET /authorize: a code for the redirect, or an error to send back to the redirect URI. */
  authorize(query: URLSearchParams): { redirect: URL } | { error: GrantError; description: string } {
    const redirect = query.get('redirect_uri') ?? '';
    let url: URL;
    try {
      url = new URL(redirect);
    } catch {
      return { error: 'invalid_request', description: 'redirect_uri is not a URL' };
    }
    // Only loopback redirects: the stack is a local development tool and must not send codes elsewhere.
    if (url.protocol !== 'http:' || !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname))
      return { error: 'invalid_request', description: 'redirect_uri must be http on loopback' };
    const back = (params: Record<string, string>) => {
      const target = new URL(url.href);
      for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
      const state = query.get('state');
      if (state !== null) target.searchParams.set('state', state);
      return { redirect: target };
    };
    if (query.get('response_type') !== 'code')
      return back({ error: 'unsupported_response_type', error_description: 'only response_type=code' });
    const challenge = query.get('code_challenge');
    if (query.get('code_challenge_method') !== 'S256' || !challenge)
      return back({ error: 'invalid_request', error_description: 'PKCE with S256 is required' });
    const clientId = query.get('client_id');
    if (!clientId) return back({ error: 'invalid_request', error_description: 'client_id is required' });
    this.#prune();
    if (this.#codes.size >= MAX_PENDING)
      return back({ error: 'temporarily_unavailable', error_description: 'too many pending codes' });
    const code = randomBytes(24).toString('base64url');
    const nonce = query.get('nonce');
    this.#codes.set(code, {
      clientId,
      redirectUri: redirect,
      challenge,
      ...(nonce !== null ? { nonce } : {}),
      expires: Date.now() + CODE_TTL_MS,
    });
    return back({ code });
  }

  /** The token endpoint's authorization_code grant: the client and nonce the token is for, or an error. */
  redeemCode(params: URLSearchParams): { clientId: string; nonce?: string } | { error: GrantError } {
    const code = params.get('code') ?? '';
    const pending = this.#codes.get(code);
    this.#codes.delete(code);
    if (!pending || pending.expires < Date.now()) return { error: 'invalid_grant' };
    const verifier = params.get('code_verifier') ?? '';
    const computed = createHash('sha256').update(verifier).digest('base64url');
    if (
      params.get('redirect_uri') !== pending.redirectUri ||
      params.get('client_id') !== pending.clientId ||
      !equal(computed, pending.challenge)
    )
      return { error: 'invalid_grant' };
    return { clientId: pending.clientId, ...(pending.nonce !== undefined ? { nonce: pending.nonce } : {}) };
  }

  /** POST /device/code. */
  startDevice(params: URLSearchParams, baseUrl: string): Record<string, unknown> | { error: GrantError } {
    const clientId = params.get('client_id');
    if (!clientId) return { error: 'invalid_request' };
    this.#prune();
    if (this.#devices.size >= MAX_PENDING) return { error: 'invalid_request' };
    const deviceCode = randomBytes(24).toString('base64url');
    const letters = randomBytes(8)
      .toString('base64url')
      .replace(/[^A-Za-z]/g, 'X')
      .toUpperCase()
      .slice(0, 8);
    const userCode = `${letters.slice(0, 4)}-${letters.slice(4)}`;
    this.#devices.set(deviceCode, { clientId, userCode, approved: false, expires: Date.now() + DEVICE_TTL_MS });
    return {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: `${baseUrl}/device`,
      verification_uri_complete: `${baseUrl}/device?user_code=${encodeURIComponent(userCode)}`,
      expires_in: DEVICE_TTL_MS / 1000,
      interval: 1,
    };
  }

  /** GET /device?user_code=…: the stack's user approves. */
  approveDevice(userCode: string): boolean {
    for (const device of this.#devices.values()) {
      if (device.userCode === userCode && device.expires >= Date.now()) {
        device.approved = true;
        return true;
      }
    }
    return false;
  }

  /** The token endpoint's device_code grant. */
  redeemDevice(params: URLSearchParams): { clientId: string } | { error: GrantError } {
    const deviceCode = params.get('device_code') ?? '';
    const device = this.#devices.get(deviceCode);
    if (!device || device.clientId !== params.get('client_id')) return { error: 'invalid_grant' };
    if (device.expires < Date.now()) {
      this.#devices.delete(deviceCode);
      return { error: 'expired_token' };
    }
    if (!device.approved) return { error: 'authorization_pending' };
    this.#devices.delete(deviceCode);
    return { clientId: device.clientId };
  }

  #prune(): void {
    const now = Date.now();
    for (const [k, v] of this.#codes) if (v.expires < now) this.#codes.delete(k);
    for (const [k, v] of this.#devices) if (v.expires < now) this.#devices.delete(k);
  }
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
