import type { VerificationFailure } from '@cosignkit/core';
import { CosignkitError } from '@cosignkit/core';
import { mapWithConcurrency } from './bounded-concurrency.js';
import { MEDIA_TYPES, type Descriptor, type ImageIndex } from './media-types.js';
import { sha256Digest, type RegistryClient, type Repository } from './registry-client.js';
import { isRegistryDigest } from './registry-digest.js';
import { parseImageIndex, parseJsonObject, stringRecord } from './registry-documents.js';
import { REGISTRY_LIMITS } from './registry-limits.js';
import { itemFailure } from './signature-image.js';
import { withSubjectLock } from './subject-lock.js';

const EMPTY_CONFIG = Buffer.from('{}');

export const BUNDLE_ANNOTATIONS = {
  content: 'dev.sigstore.bundle.content',
  predicateType: 'dev.sigstore.bundle.predicateType',
} as const;

/** A Sigstore bundle found as a referrer of a subject. */
export interface BundleReferrer {
  manifestDigest: string;
  annotations: Record<string, string>;
  bundle: Buffer;
  /** Set when this referrer could not be read (its bundle blob is missing, too large, not its digest…). */
  failure?: VerificationFailure;
}

/**
 * Pushes a Sigstore bundle as an OCI 1.1 referrer of `subject` (artifactType bundle, empty config, one
 * layer), as cosign v3 does. On a registry without the Referrers API the subject's fallback index at tag
 * `sha256-<hex>` is updated too, serialized per subject and re-read after writing.
 */
export async function attachBundleReferrer(
  client: RegistryClient,
  target: Repository,
  subject: Descriptor,
  bundle: Buffer,
  annotations: Record<string, string>,
): Promise<string> {
  await client.pushBlob(target, EMPTY_CONFIG);
  await client.pushBlob(target, bundle);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    artifactType: MEDIA_TYPES.sigstoreBundle,
    config: { mediaType: MEDIA_TYPES.ociEmpty, digest: sha256Digest(EMPTY_CONFIG), size: EMPTY_CONFIG.length },
    layers: [{ mediaType: MEDIA_TYPES.sigstoreBundle, digest: sha256Digest(bundle), size: bundle.length }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations,
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = sha256Digest(bytes);
  const { subjectAccepted } = await client.putManifestDetailed(target, digest, bytes, MEDIA_TYPES.ociManifest);
  if (subjectAccepted) return digest;
  const entry: Descriptor = {
    mediaType: MEDIA_TYPES.ociManifest,
    digest,
    size: bytes.length,
    artifactType: MEDIA_TYPES.sigstoreBundle,
    annotations,
  };
  await updateFallbackIndex(client, target, subject.digest, entry);
  return digest;
}

async function updateFallbackIndex(
  client: RegistryClient,
  target: Repository,
  subjectDigest: string,
  entry: Descriptor,
): Promise<void> {
  const tag = subjectDigest.replace(':', '-');
  await withSubjectLock(`${target.registry}/${target.repository}:${tag}`, async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const index = await readIndex(client, target, tag);
      if (index.manifests.some((d) => d.digest === entry.digest)) return;
      const next: ImageIndex = { ...index, manifests: [...index.manifests, entry] };
      await client.putManifest(target, tag, Buffer.from(JSON.stringify(next)), MEDIA_TYPES.ociIndex);
      // The loop re-reads: a writer on another machine that overwrote the index gets our entry merged again.
    }
    throw new CosignkitError(
      'REGISTRY_ERROR',
      `the referrers index ${target.registry}/${target.repository}:${tag} kept being overwritten`,
    );
  });
}

async function readIndex(client: RegistryClient, target: Repository, tag: string): Promise<ImageIndex> {
  const found = await client.findManifest(target, tag);
  const empty: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] };
  if (!found) return empty;
  return parseImageIndex(found.bytes, `${target.repository}:${tag} (the referrers index)`, { code: 'NOT_AN_IMAGE' });
}

/**
 * The Sigstore bundles referring to `subjectDigest`. cosign 2.5 writes fallback entries whose artifactType is
 * the empty config's type, so each candidate manifest is read and its own artifactType checked.
 */
export async function readBundleReferrers(
  client: RegistryClient,
  target: Repository,
  subjectDigest: string,
): Promise<BundleReferrer[]> {
  const { index } = await client.referrers(target, subjectDigest);
  // Entries that are not objects with a well-formed digest name nothing that could be fetched: skipped.
  const candidates = (index.manifests as unknown[])
    .filter((d): d is Descriptor => typeof d === 'object' && d !== null && isRegistryDigest((d as Descriptor).digest))
    .filter(
      (d) =>
        d.artifactType === undefined ||
        d.artifactType === MEDIA_TYPES.sigstoreBundle ||
        d.artifactType === MEDIA_TYPES.ociEmpty,
    );
  if (candidates.length > REGISTRY_LIMITS.referrers) {
    throw new CosignkitError(
      'REGISTRY_ERROR',
      `${subjectDigest} has ${candidates.length} candidate bundle referrers; at most ${REGISTRY_LIMITS.referrers} are read`,
      { details: { limit: REGISTRY_LIMITS.referrers } },
    );
  }
  let budget = REGISTRY_LIMITS.totalSignatureBytes;
  const found = await mapWithConcurrency(
    candidates,
    REGISTRY_LIMITS.concurrency,
    async (d): Promise<BundleReferrer | undefined> => {
      const where = `referrer ${d.digest}`;
      let annotations: Record<string, string> = {};
      try {
        const m = await client.findManifest(target, d.digest);
        if (!m) return undefined;
        let manifest: Record<string, unknown>;
        try {
          manifest = parseJsonObject(m.bytes, where, 'BUNDLE_MALFORMED');
        } catch {
          return undefined; // not a manifest at all: not a bundle referrer either
        }
        const layers = Array.isArray(manifest.layers) ? (manifest.layers as unknown[]) : [];
        const layer = (typeof layers[0] === 'object' && layers[0] !== null ? layers[0] : undefined) as
          | Partial<Descriptor>
          | undefined;
        const config = manifest.config as Partial<Descriptor> | undefined;
        const subject = manifest.subject as Partial<Descriptor> | undefined;
        const isBundle =
          (manifest.artifactType ?? config?.mediaType) === MEDIA_TYPES.sigstoreBundle ||
          layer?.mediaType === MEDIA_TYPES.sigstoreBundle;
        if (!isBundle || !layer || subject?.digest !== subjectDigest) return undefined;
        annotations = stringRecord(manifest.annotations);
        if (!isRegistryDigest(layer.digest)) {
          return {
            manifestDigest: d.digest,
            annotations,
            bundle: Buffer.alloc(0),
            failure: { code: 'BUNDLE_MALFORMED', message: `${where}: the bundle layer has no well-formed digest` },
          };
        }
        const limit = Math.min(REGISTRY_LIMITS.bundleBytes, budget);
        const bundle = await client.getBlob(target, layer.digest, limit);
        budget -= bundle.length;
        return { manifestDigest: d.digest, annotations, bundle };
      } catch (error) {
        return { manifestDigest: d.digest, annotations, bundle: Buffer.alloc(0), failure: itemFailure(error, where) };
      }
    },
  );
  return found.filter((b): b is BundleReferrer => b !== undefined);
}
