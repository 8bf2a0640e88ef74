import { CosignkitError, readBoundedResponse } from '@cosignkit/core';
import { IDENTITY_TOKEN_SIZE_LIMIT } from './identity-token.js';

/**
 * GitHub Actions' ambient OIDC credential: with `permissions: id-token: write`, a job has
 * ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN; a GET of the URL with `audience=` and the
 * request token as bearer answers `{"value": "<jwt>"}`. The request token is a secret too: never logged.
 */
export async function fetchGithubActionsToken(
  env: NodeJS.ProcessEnv,
  audience: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!requestUrl || !requestToken) return undefined;
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    throw new CosignkitError('IDENTITY_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL is not a URL');
  }
  url.searchParams.set('audience', audience);
  const where = `${url.origin}${url.pathname}`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${requestToken}`, accept: 'application/json' },
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(10_000)]) : AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new CosignkitError('BACKEND_UNAVAILABLE', `cannot reach the GitHub Actions token endpoint ${where}`, {
      cause: error,
    });
  }
  if (!response.ok)
    throw new CosignkitError(
      'IDENTITY_TOKEN',
      `the GitHub Actions token endpoint ${where} answered ${response.status}`,
    );
  const body = await readBoundedResponse(response, IDENTITY_TOKEN_SIZE_LIMIT * 2);
  if (body === undefined) throw new CosignkitError('IDENTITY_TOKEN', 'the GitHub Actions token answer is too large');
  const text = body.toString('utf8');
  let value: unknown;
  try {
    value = (JSON.parse(text) as { value?: unknown }).value;
  } catch {
    value = undefined;
  }
  if (typeof value !== 'string' || value === '')
    throw new CosignkitError('IDENTITY_TOKEN', `the GitHub Actions token endpoint ${where} gave no token`);
  return value;
}
