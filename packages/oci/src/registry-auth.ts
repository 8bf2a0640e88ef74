import { CosignkitError } from '@cosignkit/core';
import { readBoundedBody } from './bounded-body.js';
import type { CredentialSource, RegistryCredentials } from './docker-credentials.js';
import { isLoopbackRegistry } from './image-reference.js';
import { REGISTRY_LIMITS } from './registry-limits.js';

/** A parsed `WWW-Authenticate` challenge. */
export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return { scheme, params };
}

export function basicHeader(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/**
 * Answers a challenge: Basic with the stored credentials, or a Bearer token from the challenge's realm for
 * the scope (anonymous when there are no credentials, as registries allow for public pulls).
 */
export async function answerChallenge(
  challenge: Challenge,
  registry: string,
  scope: string,
  credentials: CredentialSource,
  fetchImpl: typeof fetch,
  limits: { idleMs?: number; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<string> {
  const creds = await credentials(registry);
  if (challenge.scheme === 'basic') {
    if (!creds)
      throw new CosignkitError(
        'REGISTRY_AUTH',
        `${registry} asks for a login and no credentials were found (docker login ${registry})`,
      );
    return basicHeader(creds);
  }
  const realm = challenge.params.realm;
  if (!realm) throw new CosignkitError('REGISTRY_AUTH', `${registry} sent a Bearer challenge without a realm`);
  const url = tokenRealm(realm, registry);
  // cosign sends the Basic credentials to the realm wherever it is. Over plain HTTP they would be readable
  // on the way: that is allowed only to loopback or to the registry's own host (already spoken to so).
  if (creds && url.protocol === 'http:' && !isLoopbackRegistry(url.host) && url.hostname !== hostnameOf(registry)) {
    throw new CosignkitError(
      'REGISTRY_AUTH',
      `${registry} names a token server on another host over plain HTTP (${url.host}): credentials are not sent there`,
    );
  }
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  url.searchParams.set('scope', scope);
  let response: Response;
  try {
    response = await fetchImpl(url, { headers: creds ? { authorization: basicHeader(creds) } : {} });
  } catch (error) {
    if (limits.signal?.aborted)
      throw new CosignkitError(
        (limits.signal.reason as Error | undefined)?.name === 'TimeoutError' ? 'TIMEOUT' : 'ABORTED',
        `the token server ${url.host} did not answer in time`,
        { cause: error },
      );
    throw new CosignkitError('REGISTRY_UNAVAILABLE', `token server ${url.origin} cannot be reached`, { cause: error });
  }
  if (response.status === 401 || response.status === 403) {
    throw new CosignkitError(
      'REGISTRY_AUTH',
      `token server for ${registry} refused the credentials (HTTP ${response.status})`,
    );
  }
  if (!response.ok)
    throw new CosignkitError('REGISTRY_AUTH', `token server for ${registry} answered HTTP ${response.status}`);
  const bytes = await readBoundedBody(response, {
    maxBytes: REGISTRY_LIMITS.smallBodyBytes,
    idleMs: limits.idleMs ?? REGISTRY_LIMITS.idleTimeoutMs,
    what: `the token from ${url.host}`,
    signal: limits.signal,
    timeoutMs: limits.timeoutMs,
    tooLarge: 'REGISTRY_AUTH',
  });
  let body: { token?: unknown; access_token?: unknown } | null;
  try {
    body = JSON.parse(bytes.toString('utf8')) as typeof body;
  } catch (error) {
    throw new CosignkitError('REGISTRY_AUTH', `token server for ${registry} answered something that is not JSON`, {
      cause: error,
    });
  }
  const token = body?.token ?? body?.access_token;
  if (typeof token !== 'string' || token === '' || !/^[\x21-\x7e]+$/.test(token))
    throw new CosignkitError('REGISTRY_AUTH', `token server for ${registry} returned no token`);
  return `Bearer ${token}`;
}

/** The realm as an http(s) URL; anything else (`data:`, `file:`, not a URL at all) is refused. */
function tokenRealm(realm: string, registry: string): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new CosignkitError('REGISTRY_AUTH', `${registry} sent a Bearer challenge whose realm is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CosignkitError(
      'REGISTRY_AUTH',
      `${registry} sent a Bearer challenge whose realm is a ${url.protocol} URL, not http(s)`,
    );
  }
  if (url.username || url.password)
    throw new CosignkitError('REGISTRY_AUTH', `${registry} sent a Bearer challenge whose realm carries credentials`);
  return url;
}

function hostnameOf(registry: string): string {
  try {
    return new URL(`http://${registry === 'index.docker.io' ? 'registry-1.docker.io' : registry}`).hostname;
  } catch {
    return registry;
  }
}
