import { CosignkitError, type ErrorCode } from '@cosignkit/core';
import type { ImageIndex, ImageManifest } from './media-types.js';
import { REGISTRY_LIMITS } from './registry-limits.js';

/**
 * Parses the registry's manifests and indexes: JSON objects of the right shape and bounded length, checked
 * before anything is fetched from them. Entries are checked one by one where they are used, so that one bad
 * entry is one failure, not the end of the whole read.
 */
/** `code` is for bytes that are not a JSON object at all (SIGNATURE_MALFORMED for a `.sig` manifest). */
export function parseJsonObject(bytes: Buffer, where: string, code: ErrorCode): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new CosignkitError(code, `${where} is not JSON`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CosignkitError(code, `${where} is not a JSON object`);
  return value as Record<string, unknown>;
}

export function parseImageManifest(
  bytes: Buffer,
  where: string,
  o: { code: ErrorCode; maxLayers?: number },
): ImageManifest {
  const manifest = parseJsonObject(bytes, where, o.code);
  // JSON of another kind (an index where a manifest belongs) is NOT_AN_IMAGE, whatever `code` says for garbage.
  if (!Array.isArray(manifest.layers))
    throw new CosignkitError('NOT_AN_IMAGE', `${where} is not an image manifest (it has no layers)`);
  const max = o.maxLayers ?? REGISTRY_LIMITS.signatureLayers;
  if (manifest.layers.length > max) {
    throw new CosignkitError(
      'REGISTRY_ERROR',
      `${where} has ${manifest.layers.length} layers; at most ${max} are read`,
      { details: { limit: max } },
    );
  }
  return manifest as unknown as ImageManifest;
}

export function parseImageIndex(bytes: Buffer, where: string, o: { code: ErrorCode; maxEntries?: number }): ImageIndex {
  const index = parseJsonObject(bytes, where, o.code);
  if (!Array.isArray(index.manifests))
    throw new CosignkitError('NOT_AN_IMAGE', `${where} is not an OCI index (it has no manifests)`);
  const max = o.maxEntries ?? REGISTRY_LIMITS.indexEntries;
  if (index.manifests.length > max) {
    throw new CosignkitError(
      'REGISTRY_ERROR',
      `${where} has ${index.manifests.length} entries; at most ${max} are read`,
      { details: { limit: max } },
    );
  }
  return index as unknown as ImageIndex;
}

/** A string-to-string record from the registry (annotations), or {} for anything else; non-strings dropped. */
export function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
