import type { Digest } from '@cosignkit/core';

/**
 * `sha256:<hex>` in place of a file: a digest computed elsewhere (seed 001's "sign <artifact_hash>"), the
 * mirror of verify-blob's digest form. Anything else is a file name.
 */
export function parseArtifactDigest(argument: string): Digest | undefined {
  const match = /^sha256:([0-9a-fA-F]{64})$/.exec(argument);
  return match ? { algorithm: 'sha256', hex: match[1]!.toLowerCase() } : undefined;
}
