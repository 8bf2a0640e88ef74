import { open as openFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { digestFile, type SignatureCheck } from '@cosignkit/core';
import type { Digest, EngineName, RegistryVerificationResult } from '@cosignkit/core';
import {
  MEDIA_TYPES,
  RegistryClient,
  dockerConfigCredentials,
  formatImageReference,
  parseImageReference,
  sha256Digest,
  type FoundSignature,
  type ImageVerification,
} from '@cosignkit/oci';
import type { RoleOptions } from './role-options.js';

export function clientFor(options: RoleOptions): RegistryClient {
  return (
    options.client ??
    new RegistryClient({
      allowHttp: options.allowHttp,
      credentials: options.credentials ?? dockerConfigCredentials(options.env as NodeJS.ProcessEnv),
      timeoutMs: options.registryTimeoutMs,
    })
  );
}

/** `sha256:<hex>` as the one digest shape of results. */
export function digestOf(digest: string): Digest {
  return { algorithm: 'sha256', hex: digest.slice(digest.indexOf(':') + 1) };
}

/** Pushes a file as an OCI artifact (empty config, one layer titled with the file name); returns `repo@digest`. */
export async function pushFileArtifact(client: RegistryClient, file: string, ref: string): Promise<string> {
  const parsed = parseImageReference(ref);
  const repo = { registry: parsed.registry, repository: parsed.repository };
  const digest = `sha256:${(await digestFile(file, 'sha256')).toString('hex')}`;
  const handle = await openFile(file);
  const size = (await handle.stat()).size;
  await handle.close();
  await client.pushBlobStream(repo, digest, size, () => {
    const stream = Readable.toWeb(
      Readable.from(
        (async function* () {
          const h = await openFile(file);
          try {
            yield* h.createReadStream();
          } finally {
            await h.close();
          }
        })(),
      ),
    );
    return stream as ReadableStream<Uint8Array>;
  });
  const config = Buffer.from('{}');
  await client.pushBlob(repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: 'application/vnd.cosignkit.file.v1',
      config: { mediaType: MEDIA_TYPES.ociEmpty, digest: sha256Digest(config), size: config.length },
      layers: [
        {
          mediaType: 'application/octet-stream',
          digest,
          size,
          annotations: { 'org.opencontainers.image.title': basename(file) },
        },
      ],
    }),
  );
  const manifestDigest = await client.putManifest(
    repo,
    parsed.digest ?? parsed.tag ?? 'latest',
    manifest,
    MEDIA_TYPES.ociManifest,
  );
  return formatImageReference({ ...parsed, tag: undefined, digest: manifestDigest });
}

/** A registry verification with what was found in each layout (native; empty from the cosign engine). */
export type ImageVerificationResult = RegistryVerificationResult & { found: FoundSignature[] };

/** A native registry verification as the role's result: one SignatureCheck per signature found, both layouts. */
export function registryResult(
  image: string,
  engine: EngineName,
  verification: ImageVerification,
  what: string,
): ImageVerificationResult {
  const signatures: SignatureCheck[] = verification.found.map((f) => ({
    ...f.keyless,
    verified: f.verified,
    ...(f.keyFingerprint ? { keyFingerprint: f.keyFingerprint } : {}),
  }));
  const failures = verification.found.flatMap((f) => (f.failure ? [f.failure] : []));
  const verified = verification.found.some((f) => f.verified);
  if (verification.found.length === 0)
    failures.push({ code: 'VERIFICATION_FAILED', message: `no ${what} found for ${image}` });
  else if (!verified && failures.length === 0)
    failures.push({ code: 'VERIFICATION_FAILED', message: `no ${what} of ${image} verifies` });
  return {
    verified,
    engine,
    image,
    artifact: { digest: digestOf(verification.digest) },
    signatures,
    failures,
    payloads: verification.found.filter((f) => f.verified).map((f) => f.payload),
    found: verification.found,
  };
}
