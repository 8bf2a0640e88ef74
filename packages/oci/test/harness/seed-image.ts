import { randomBytes } from 'node:crypto';
import { MEDIA_TYPES } from '../../src/media-types.js';
import { sha256Digest, type RegistryClient } from '../../src/registry-client.js';

/** Pushes a small, unique OCI image (one random layer) and returns its digest. */
export async function seedImage(
  client: Pick<RegistryClient, 'pushBlob' | 'putManifest'>,
  host: string,
  repository: string,
  tag: string,
): Promise<string> {
  const repo = { registry: host, repository };
  const layer = randomBytes(512);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [sha256Digest(layer)] },
      config: {},
    }),
  );
  await client.pushBlob(repo, layer);
  await client.pushBlob(repo, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: sha256Digest(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256Digest(layer), size: layer.length }],
  };
  return client.putManifest(repo, tag, Buffer.from(JSON.stringify(manifest)), MEDIA_TYPES.ociManifest);
}
