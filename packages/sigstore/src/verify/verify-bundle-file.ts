import { statSync } from 'node:fs';
import { CosignkitError, digestFile, fileError } from '@cosignkit/core';
import { parseJsonText, readLimitedFile } from '../io/read-limited-file.js';
import {
  verifyBundle,
  type ArtifactInput,
  type KeylessVerification,
  type VerifyBundleOptions,
} from './verify-bundle.js';

/** Bundles are tens of KiB; a big DSSE payload may reach a few MiB. */
export const BUNDLE_SIZE_LIMIT = 32 * 1024 * 1024;
/** Artifacts up to this size are read into memory (node:crypto verifies fastest); larger ones are hashed as a stream. */
export const IN_MEMORY_ARTIFACT_LIMIT = 64 * 1024 * 1024;

/** `sha256:<64 hex>` (cosign's artifact-digest form for verify-blob), or undefined for anything else. */
export function parseArtifactDigest(text: string): ArtifactInput | undefined {
  const match = /^(sha256|sha384|sha512):([0-9a-fA-F]+)$/.exec(text);
  if (!match) return undefined;
  const algorithm = match[1] as 'sha256' | 'sha384' | 'sha512';
  const length = { sha256: 64, sha384: 96, sha512: 128 }[algorithm];
  if (match[2]!.length !== length)
    throw new CosignkitError('USAGE', `${text}: a ${algorithm} digest has ${length} hex digits`);
  return { digest: { algorithm, value: Buffer.from(match[2]!, 'hex') } };
}

/** Reads an artifact path (or takes a `sha256:<hex>` digest) for verifyBundle. */
export async function readArtifact(pathOrDigest: string, signal?: AbortSignal): Promise<ArtifactInput> {
  const digest = parseArtifactDigest(pathOrDigest);
  if (digest) return digest;
  const path = pathOrDigest;
  let info;
  try {
    info = statSync(path); // one syscall: a thread-pool round trip would cost more than it does
  } catch (error) {
    throw fileError(path, error);
  }
  if (!info.isFile()) throw new CosignkitError('NOT_A_FILE', `${path} is not a regular file`);
  if (info.size <= IN_MEMORY_ARTIFACT_LIMIT)
    return { bytes: await readLimitedFile(path, IN_MEMORY_ARTIFACT_LIMIT, 'artifact'), path };
  return { digest: { algorithm: 'sha256', value: await digestFile(path, 'sha256', signal ? { signal } : {}) }, path };
}

/** Reads and parses a bundle file (size-checked, regular file only). */
export async function readBundleFile(path: string): Promise<unknown> {
  const text = await readLimitedFile(path, BUNDLE_SIZE_LIMIT, 'bundle');
  return parseJsonText(text, `bundle ${path}`);
}

/** verifyBundle on files: the bundle at `bundlePath`, the artifact at a path or as `sha256:<hex>`. */
export async function verifyBundleFile(
  bundlePath: string,
  artifact: string | undefined,
  options: Omit<VerifyBundleOptions, 'artifact'> & { signal?: AbortSignal },
): Promise<KeylessVerification> {
  const json = await readBundleFile(bundlePath);
  const input = artifact === undefined ? undefined : await readArtifact(artifact, options.signal);
  return verifyBundle(json, { ...options, ...(input ? { artifact: input } : {}) });
}
