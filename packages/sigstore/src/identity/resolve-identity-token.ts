import { lstat } from 'node:fs/promises';
import { CosignkitError, type Logger } from '@cosignkit/core';
import { readLimitedFile } from '../io/read-limited-file.js';
import { fetchGithubActionsToken } from './github-actions-token.js';
import { IDENTITY_TOKEN_SIZE_LIMIT, parseIdentityToken, type IdentityTokenClaims } from './identity-token.js';

export interface ResolveIdentityTokenOptions {
  /**
   * What `--identity-token` said: a path to a file holding the token, or `env:NAME` for an environment
   * variable. A token itself is refused: argv is visible to every user of the machine (ps, /proc).
   */
  identityToken?: string;
  env: NodeJS.ProcessEnv;
  /** The audience asked of ambient providers (Fulcio's client id). Default "sigstore". */
  audience?: string;
  logger?: Logger;
  signal?: AbortSignal;
}

export interface ResolvedIdentityToken {
  token: string;
  claims: IdentityTokenClaims;
  /** Where it came from, for diagnostics: never the token. */
  source: string;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*$/;

/**
 * Finds the OIDC ID token for keyless signing, in cosign's order: `--identity-token`, then SIGSTORE_ID_TOKEN,
 * then an ambient CI credential (GitHub Actions). Interactive flows (browser, device code) are not offered.
 * Returns undefined when there is none. The token is checked (shape, expiry) but not verified: Fulcio does.
 */
export async function resolveIdentityToken(
  options: ResolveIdentityTokenOptions,
): Promise<ResolvedIdentityToken | undefined> {
  const found = await findToken(options);
  if (!found) return undefined;
  const token = found.token.trim();
  const claims = parseIdentityToken(token);
  options.logger?.debug?.(`identity token from ${found.source}: issuer ${claims.issuer}`);
  return { token, claims, source: found.source };
}

async function findToken(options: ResolveIdentityTokenOptions): Promise<{ token: string; source: string } | undefined> {
  const flag = options.identityToken;
  if (flag !== undefined) {
    if (flag.startsWith('env:')) {
      const name = flag.slice(4);
      const value = options.env[name];
      if (!value) throw new CosignkitError('IDENTITY_TOKEN', `--identity-token env:${name}: the variable is not set`);
      return { token: value, source: `$${name}` };
    }
    if (JWT_SHAPE.test(flag) && !(await exists(flag))) {
      // Never echo it: it is a credential, and it is already in argv.
      throw new CosignkitError(
        'USAGE',
        '--identity-token takes a file or env:NAME, not the token itself (argv is visible to other users); use SIGSTORE_ID_TOKEN',
      );
    }
    const text = await readLimitedFile(flag, IDENTITY_TOKEN_SIZE_LIMIT, 'identity token file');
    return { token: text.toString('utf8'), source: `file ${flag}` };
  }
  if (options.env.SIGSTORE_ID_TOKEN) return { token: options.env.SIGSTORE_ID_TOKEN, source: '$SIGSTORE_ID_TOKEN' };
  const ambient = await fetchGithubActionsToken(options.env, options.audience ?? 'sigstore', options.signal);
  if (ambient) return { token: ambient, source: 'GitHub Actions (ACTIONS_ID_TOKEN_REQUEST_URL)' };
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
