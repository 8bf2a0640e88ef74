import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CosignkitError } from '@cosignkit/core';
import * as oauth from 'oauth4webapi';
import { printable } from './identity-token.js';
import { DEFAULT_OIDC_CLIENT_ID, type InteractiveTokenOptions } from './interactive-token.js';

/**
 * The interactive ways cosign gets an OIDC ID token, on oauth4webapi: the authorization-code flow with PKCE
 * (S256), state and nonce through a one-shot loopback redirect listener, or the device-authorization grant
 * (RFC 8628) when there is no browser. The issuer's discovery document names the endpoints. The token is
 * returned, never printed or logged; the ID token's issuer, audience, expiry and nonce are checked by
 * oauth4webapi, its signature by Fulcio.
 */
export async function runInteractiveFlow(options: InteractiveTokenOptions): Promise<string> {
  const issuer = parseUrl('--oidc-issuer', options.issuer);
  const signal = AbortSignal.any([
    ...(options.signal ? [options.signal] : []),
    AbortSignal.timeout(options.timeoutMs ?? 5 * 60_000),
  ]);
  // Plain HTTP only to a loopback issuer (the dev stack): anything else must be TLS.
  const insecure = issuer.protocol === 'http:' && isLoopback(issuer.hostname);
  if (issuer.protocol !== 'https:' && !insecure)
    throw new CosignkitError('USAGE', '--oidc-issuer must be https (plain http only on loopback)');
  const http = { [oauth.allowInsecureRequests]: insecure, signal };
  const client: oauth.Client = { client_id: options.clientId ?? DEFAULT_OIDC_CLIENT_ID };
  try {
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, http));
    return options.flow === 'device'
      ? await deviceFlow(as, client, options, http)
      : await browserFlow(as, client, options, http);
  } catch (error) {
    throw flowError(error, issuer, signal);
  }
}

type HttpOptions = { [oauth.allowInsecureRequests]: boolean; signal: AbortSignal };

async function browserFlow(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  options: InteractiveTokenOptions,
  http: HttpOptions,
): Promise<string> {
  if (!as.authorization_endpoint) throw new Error('the issuer has no authorization endpoint');
  const wanted = parseUrl('--oidc-redirect-url', options.redirectUrl ?? 'http://localhost:0/auth/callback');
  if (wanted.protocol !== 'http:' || !isLoopback(wanted.hostname))
    throw new CosignkitError('USAGE', '--oidc-redirect-url must be an http URL on localhost or 127.0.0.1');
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const callback = await listenOnce(wanted, state, http.signal);
  try {
    const redirectUri = callback.url;
    const url = new URL(as.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: redirectUri,
      scope: 'openid email',
      state,
      nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString();
    options.prompt(`Your browser will now be opened to: ${url.href}`);
    options.openUrl?.(url.href).catch(() => undefined);
    const parameters = oauth.validateAuthResponse(as, client, await callback.parameters, state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.None(),
      parameters,
      redirectUri,
      verifier,
      http,
    );
    return idToken(await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce }));
  } finally {
    callback.close();
  }
}

async function deviceFlow(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  options: InteractiveTokenOptions,
  http: HttpOptions,
): Promise<string> {
  const started = await oauth.processDeviceAuthorizationResponse(
    as,
    client,
    await oauth.deviceAuthorizationRequest(as, client, oauth.None(), { scope: 'openid email' }, http),
  );
  options.prompt(
    started.verification_uri_complete
      ? `Enter the code ${started.user_code} at ${started.verification_uri} (or open ${started.verification_uri_complete})`
      : `Enter the code ${started.user_code} at ${started.verification_uri}`,
  );
  let interval = Math.max(1, started.interval ?? 5);
  for (;;) {
    await sleep(interval * 1000, http.signal);
    try {
      const response = await oauth.deviceCodeGrantRequest(as, client, oauth.None(), started.device_code, http);
      return idToken(await oauth.processDeviceCodeResponse(as, client, response));
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError && error.error === 'authorization_pending') continue;
      if (error instanceof oauth.ResponseBodyError && error.error === 'slow_down') {
        interval += 5;
        continue;
      }
      throw error;
    }
  }
}

function idToken(response: oauth.TokenEndpointResponse): string {
  if (typeof response.id_token !== 'string' || response.id_token === '')
    throw new Error('the token endpoint gave no ID token');
  return response.id_token;
}

/**
 * A loopback listener for one redirect: it answers the browser, resolves with the callback's parameters
 * when the state matches, and ignores anything else (a stray request must not end the flow).
 */
async function listenOnce(
  wanted: URL,
  state: string,
  signal: AbortSignal,
): Promise<{ url: string; parameters: Promise<URL>; close: () => void }> {
  let deliver!: (url: URL) => void;
  let fail!: (error: unknown) => void;
  const parameters = new Promise<URL>((resolve, reject) => {
    deliver = resolve;
    fail = reject;
  });
  parameters.catch(() => undefined);
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const got = new URL(request.url ?? '/', 'http://localhost');
    if (request.method !== 'GET' || got.pathname !== wanted.pathname || got.searchParams.get('state') !== state) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    response
      .writeHead(200, { 'content-type': 'text/plain' })
      .end('cosignkit: authentication complete; you may close this window.\n');
    deliver(got);
  });
  const onAbort = () => fail(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  // "localhost" is bound as 127.0.0.1 (the address browsers try first for it varies; the redirect keeps the name).
  const host = wanted.hostname === 'localhost' ? '127.0.0.1' : wanted.hostname.replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(wanted.port || 80), host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = new URL(wanted.href);
  url.port = String(port);
  return {
    url: url.href,
    parameters,
    close: () => {
      signal.removeEventListener('abort', onAbort);
      server.closeAllConnections();
      server.close();
    },
  };
}

function flowError(error: unknown, issuer: URL, signal: AbortSignal): CosignkitError {
  if (CosignkitError.isInstance(error)) return error;
  const where = `the OIDC issuer ${issuer.origin}${issuer.pathname === '/' ? '' : issuer.pathname}`;
  if (signal.aborted) {
    const timedOut = (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
    return new CosignkitError(
      timedOut ? 'TIMEOUT' : 'ABORTED',
      `${where}: no sign-in ${timedOut ? 'in time' : '(aborted)'}`,
    );
  }
  if (error instanceof oauth.ResponseBodyError || error instanceof oauth.AuthorizationResponseError) {
    return new CosignkitError(
      'IDENTITY_TOKEN',
      `${where} refused: ${printable(error.error)}${error.error_description ? ` (${printable(error.error_description)})` : ''}`,
    );
  }
  if (error instanceof TypeError && error.message === 'fetch failed')
    return new CosignkitError('BACKEND_UNAVAILABLE', `cannot reach ${where}`);
  const message = error instanceof Error ? printable(error.message) : 'unknown error';
  return new CosignkitError('IDENTITY_TOKEN', `${where}: ${message}`);
}

function parseUrl(flag: string, value: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new CosignkitError('USAGE', `${flag} is not a URL`);
  }
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]' || hostname === '::1';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
