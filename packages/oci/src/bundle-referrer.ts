import { CosignkitError } from '@cosignkit/core';
import { MEDIA_TYPES, type Descriptor, type ImageIndex, type ImageManifest } from './media-types.js';
import { sha256Digest, type RegistryClient, type Repository } from './registry-client.js';
import { withSubjectLock } from './subject-lock.js';

const EMPTY_CONFIG = Buffer.from('{}');
const MAX_BUNDLE = 16 * 1024 * 1024;

export const BUNDLE_ANNOTATIONS = {
  content: 'dev.sigstore.bundle.content',
  predicateType: 'dev.sigstore.bundle.predicateType',
} as const;

/** A Sigstore bundle found as a referrer of a subject. */
export interface BundleReferrer {
  manifestDigest: string;
  annotations: Record<string, string>;
  bundle: Buffer;
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
  const manifest: ImageManifest = {
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
  try {
    const index = JSON.parse(found.bytes.toString('utf8')) as ImageIndex;
    if (Array.isArray(index.manifests)) return index;
  } catch {
    // fall through to the error below
  }
  throw new CosignkitError(
    'NOT_AN_IMAGE',
    `${target.repository}:${tag} is not an OCI index, so it cannot hold referrers`,
  );
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
  const candidates = (index.manifests ?? []).filter(
    (d) =>
      d.artifactType === undefined ||
      d.artifactType === MEDIA_TYPES.sigstoreBundle ||
      d.artifactType === MEDIA_TYPES.ociEmpty,
  );
  const found = await Promise.all(
    candidates.map(async (d): Promise<BundleReferrer | undefined> => {
      const m = await client.findManifest(target, d.digest);
      if (!m) return undefined;
      let manifest: ImageManifest;
      try {
        manifest = JSON.parse(m.bytes.toString('utf8')) as ImageManifest;
      } catch {
        return undefined;
      }
      const layer = manifest.layers?.[0];
      const isBundle =
        (manifest.artifactType ?? manifest.config?.mediaType) === MEDIA_TYPES.sigstoreBundle ||
        layer?.mediaType === MEDIA_TYPES.sigstoreBundle;
      if (!isBundle || !layer || manifest.subject?.digest !== subjectDigest) return undefined;
      return {
        manifestDigest: d.digest,
        annotations: manifest.annotations ?? {},
        bundle: await client.getBlob(target, layer.digest, MAX_BUNDLE),
      };
    }),
  );
  return found.filter((b): b is BundleReferrer => b !== undefined);
}
