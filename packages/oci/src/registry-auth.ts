import { CosignkitError } from '@cosignkit/core';
import type { CredentialSource, RegistryCredentials } from './docker-credentials.js';

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
  const url = new URL(realm);
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  url.searchParams.set('scope', scope);
  let response: Response;
  try {
    response = await fetchImpl(url, { headers: creds ? { authorization: basicHeader(creds) } : {} });
  } catch (error) {
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
  const body = (await response.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (!token) throw new CosignkitError('REGISTRY_AUTH', `token server for ${registry} returned no token`);
  return `Bearer ${token}`;
}
