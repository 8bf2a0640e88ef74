import { CosignkitError } from '@cosignkit/core';
import { MEDIA_TYPES, type Descriptor, type ImageManifest } from './media-types.js';
import { sha256Digest, type RegistryClient, type Repository } from './registry-client.js';
import { withSubjectLock } from './subject-lock.js';

/** One signature or attestation in cosign's tag layout: a layer blob and its annotations. */
export interface SignatureLayer {
  mediaType: string;
  bytes: Buffer;
  annotations: Record<string, string>;
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

/** The layers of the subject's signature image with their blobs, or [] when there is none. */
export async function readSignatureLayers(
  client: RegistryClient,
  target: Repository,
  subjectDigest: string,
  suffix: SignatureSuffix,
): Promise<SignatureLayer[]> {
  const found = await readManifest(client, target, signatureTag(subjectDigest, suffix));
  if (!found) return [];
  return Promise.all(
    found.manifest.layers.map(async (d) => ({
      mediaType: d.mediaType,
      annotations: d.annotations ?? {},
      bytes: await client.getBlob(target, d.digest, 16 * 1024 * 1024),
    })),
  );
}

async function readManifest(
  client: RegistryClient,
  target: Repository,
  tag: string,
): Promise<{ manifest: ImageManifest; digest: string } | undefined> {
  const found = await client.findManifest(target, tag);
  if (!found) return undefined;
  let manifest: ImageManifest;
  try {
    manifest = JSON.parse(found.bytes.toString('utf8')) as ImageManifest;
  } catch (error) {
    throw new CosignkitError('NOT_AN_IMAGE', `${target.repository}:${tag} is not a JSON manifest`, { cause: error });
  }
  if (!Array.isArray(manifest.layers)) {
    throw new CosignkitError(
      'NOT_AN_IMAGE',
      `${target.repository}:${tag} is not an image manifest (${found.mediaType || 'no media type'})`,
    );
  }
  return { manifest, digest: found.digest };
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
