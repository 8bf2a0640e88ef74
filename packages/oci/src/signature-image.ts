import type { VerificationFailure } from '@cosignkit/core';
import { CosignkitError, type ErrorCode } from '@cosignkit/core';
import { mapWithConcurrency } from './bounded-concurrency.js';
import { MEDIA_TYPES, type Descriptor, type ImageManifest } from './media-types.js';
import { sha256Digest, type RegistryClient, type Repository } from './registry-client.js';
import { isRegistryDigest } from './registry-digest.js';
import { parseImageManifest, stringRecord } from './registry-documents.js';
import { REGISTRY_LIMITS } from './registry-limits.js';
import { withSubjectLock } from './subject-lock.js';

/** One signature or attestation in cosign's tag layout: a layer blob and its annotations. */
export interface SignatureLayer {
  mediaType: string;
  bytes: Buffer;
  annotations: Record<string, string>;
  /** Set when this layer could not be read (its blob is missing, too large, not what its digest says…). */
  failure?: VerificationFailure;
}

/** Errors that end a whole read (the registry is unreachable, refuses, or time ran out), not one layer. */
const FATAL: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'TIMEOUT',
  'ABORTED',
  'REGISTRY_UNAVAILABLE',
  'REGISTRY_AUTH',
]);

/** A failure of one item read from a registry, or the error again when it must end the whole read. */
export function itemFailure(error: unknown, where: string): VerificationFailure {
  if (!CosignkitError.isInstance(error) || FATAL.has(error.code)) throw error;
  return { code: error.code, message: `${where}: ${error.message}` };
}

export type SignatureSuffix = 'sig' | 'att' | 'sbom';

/** `sha256:<hex>` → `sha256-<hex>.sig`, cosign's legacy tag for a subject's signatures. */
export function signatureTag(subjectDigest: string, suffix: SignatureSuffix): string {
  return `${subjectDigest.replace(':', '-')}.${suffix}`;
}

export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';

/**
 * Adds a layer to the subject's signature image, keeping every layer already there. Serialized per tag and
 * checked by reading the tag back after writing: a concurrent writer elsewhere that overwrote it is merged
 * again (registries have no compare-and-swap).
 */
export async function appendSignatureLayer(
  client: RegistryClient,
  target: Repository,
  subjectDigest: string,
  suffix: SignatureSuffix,
  layer: SignatureLayer,
): Promise<{ tag: string; manifestDigest: string }> {
  const tag = signatureTag(subjectDigest, suffix);
  const layerDigest = sha256Digest(layer.bytes);
  const sameLayer = (d: Descriptor): boolean =>
    d.digest === layerDigest && d.annotations?.[SIGNATURE_ANNOTATION] === layer.annotations[SIGNATURE_ANNOTATION];
  return withSubjectLock(`${target.registry}/${target.repository}:${tag}`, async () => {
    await client.pushBlob(target, layer.bytes);
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await readManifest(client, target, tag);
      if (existing?.manifest.layers.some(sameLayer)) return { tag, manifestDigest: existing.digest };
      const layers = [...(existing?.manifest.layers ?? [])];
      layers.push({
        mediaType: layer.mediaType,
        size: layer.bytes.length,
        digest: layerDigest,
        annotations: layer.annotations,
      });
      await writeImage(client, target, tag, layers);
      // The loop re-reads: if another machine overwrote the tag meanwhile, our layer is merged in again.
    }
    throw new CosignkitError(
      'REGISTRY_ERROR',
      `the signature at ${target.registry}/${target.repository}:${tag} kept being overwritten`,
    );
  });
}

/**
 * The layers of the subject's signature image with their blobs, or [] when there is none. A manifest that
 * cannot be parsed throws SIGNATURE_MALFORMED; a layer that cannot be read is returned with its `failure`,
 * so one bad layer does not hide the others. Counts, sizes and concurrency are bounded (REGISTRY_LIMITS).
 *
 * `expected` are bytes the caller can rebuild (cosign's payload for the subject): a layer whose sha256 digest
 * and size are theirs holds exactly them, so they stand in for its blob and the registry is asked one request
 * less. The proof is the one a fetched blob gets, its digest; any other layer is fetched.
 */
export async function readSignatureLayers(
  client: RegistryClient,
  target: Repository,
  subjectDigest: string,
  suffix: SignatureSuffix,
  expected: readonly Buffer[] = [],
): Promise<SignatureLayer[]> {
  const tag = signatureTag(subjectDigest, suffix);
  const found = await readManifest(client, target, tag, 'SIGNATURE_MALFORMED');
  if (!found) return [];
  const known = new Map(expected.map((bytes) => [sha256Digest(bytes), bytes]));
  let budget = REGISTRY_LIMITS.totalSignatureBytes;
  return mapWithConcurrency(
    found.manifest.layers as unknown[],
    REGISTRY_LIMITS.concurrency,
    async (value, i): Promise<SignatureLayer> => {
      const d = (typeof value === 'object' && value !== null ? value : {}) as Partial<Descriptor>;
      const layer = {
        mediaType: typeof d.mediaType === 'string' ? d.mediaType : '',
        annotations: stringRecord(d.annotations),
        bytes: Buffer.alloc(0),
      };
      const where = `${tag} layer ${i}`;
      const fail = (code: ErrorCode, message: string): SignatureLayer => ({
        ...layer,
        failure: { code, message: `${where}: ${message}` },
      });
      if (!isRegistryDigest(d.digest)) return fail('SIGNATURE_MALFORMED', 'the layer has no well-formed digest');
      const limit = Math.min(REGISTRY_LIMITS.signatureLayerBytes, budget);
      if (typeof d.size === 'number' && d.size > limit)
        return fail('REGISTRY_ERROR', `the layer is larger than ${limit} bytes`);
      const rebuilt = known.get(d.digest);
      if (rebuilt && rebuilt.length === d.size && rebuilt.length <= limit) {
        budget -= rebuilt.length;
        return { ...layer, bytes: rebuilt };
      }
      try {
        const bytes = await client.getBlob(target, d.digest, limit);
        budget -= bytes.length;
        return { ...layer, bytes };
      } catch (error) {
        return { ...layer, failure: itemFailure(error, where) };
      }
    },
  );
}

async function readManifest(
  client: RegistryClient,
  target: Repository,
  tag: string,
  code: ErrorCode = 'NOT_AN_IMAGE',
): Promise<{ manifest: ImageManifest; digest: string } | undefined> {
  const found = await client.findManifest(target, tag);
  if (!found) return undefined;
  return { manifest: parseImageManifest(found.bytes, `${target.repository}:${tag}`, { code }), digest: found.digest };
}

/** Writes the config (as go-containerregistry derives it from the layers) and the manifest under the tag. */
async function writeImage(
  client: RegistryClient,
  target: Repository,
  tag: string,
  layers: Descriptor[],
): Promise<string> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: layers.map(() => ({ created: '0001-01-01T00:00:00Z' })),
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
  await client.pushBlob(target, config);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, size: config.length, digest: sha256Digest(config) },
    layers,
  };
  return client.putManifest(target, tag, Buffer.from(JSON.stringify(manifest)), MEDIA_TYPES.ociManifest);
}
