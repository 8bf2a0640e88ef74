import { createHash } from 'node:crypto';
import { CosignkitError } from '@cosignkit/core';

/**
 * The digests taken from a registry: only well-formed ones of algorithms whose content is checked here, so
 * that nothing else reaches a URL path (`sha256:../../x`) and no blob is accepted unchecked (`md5:`).
 */
const DIGEST = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

export function isRegistryDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST.test(value);
}

/** The digest, or REGISTRY_ERROR naming where it came from (escaped by whoever prints it). */
export function requireRegistryDigest(value: unknown, where: string): string {
  if (isRegistryDigest(value)) return value;
  throw new CosignkitError(
    'REGISTRY_ERROR',
    `${where}: ${JSON.stringify(String(value).slice(0, 200))} is not a sha256 or sha512 digest`,
  );
}

/** The digest of `bytes` with the algorithm of `digest` (which must be well-formed). */
export function digestWithAlgorithmOf(digest: string, bytes: Uint8Array): string {
  const algorithm = digest.startsWith('sha512:') ? 'sha512' : 'sha256';
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}
