import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { CosignkitError, fileError } from '@cosignkit/core';
import type { JwtIssuerConfig } from '../config.js';

const MAX_JWKS_BYTES = 256 * 1024;

/** The issuer's verification keys: a JWKS file read once at start-up, or a URL jose fetches and caches. */
export async function issuerKeySet(config: JwtIssuerConfig, name: string): Promise<JWTVerifyGetKey> {
  if (config.jwksUrl !== undefined) {
    return createRemoteJWKSet(new URL(config.jwksUrl), {
      timeoutDuration: 5000,
      cooldownDuration: 30_000,
      cacheMaxAge: 600_000,
    });
  }
  const file = config.jwksFile!;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw fileError(file, error);
  }
  if (text.length > MAX_JWKS_BYTES)
    throw new CosignkitError('USAGE', `${name}.jwksFile ${file} is larger than ${MAX_JWKS_BYTES} bytes`);
  try {
    const jwks = JSON.parse(text) as { keys?: unknown };
    if (!Array.isArray(jwks.keys)) throw new Error('no keys');
    return createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
  } catch {
    throw new CosignkitError('USAGE', `${name}.jwksFile ${file} is not a JWKS ({"keys": [...]})`);
  }
}
