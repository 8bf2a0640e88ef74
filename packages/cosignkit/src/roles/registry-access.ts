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

/**
 * Pushes a file as `cosign upload blob -f FILE REF` leaves it: an OCI image manifest whose one layer is the
 * file's bytes (media type sniffed as cosign's http.DetectContentType does for the common cases) and whose
 * config is an OCI image config naming that layer, so registries, crane and cosign read it as any image.
 * Returns `repo@digest`.
 */
export async function pushFileArtifact(client: RegistryClient, file: string, ref: string): Promise<string> {
  const parsed = parseImageReference(ref);
  const repo = { registry: parsed.registry, repository: parsed.repository };
  const digest = `sha256:${(await digestFile(file, 'sha256')).toString('hex')}`;
  const handle = await openFile(file);
  let size: number;
  let head: Buffer;
  try {
    size = (await handle.stat()).size;
    const probe = Buffer.alloc(Math.min(512, size));
    await handle.read(probe, 0, probe.length, 0);
    head = probe;
  } finally {
    await handle.close();
  }
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
  // The layer is stored uncompressed: its diff id is its digest.
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      os: '',
      rootfs: { type: 'layers', diff_ids: [digest] },
      config: {},
    }),
  );
  await client.pushBlob(repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: OCI_IMAGE_CONFIG, digest: sha256Digest(config), size: config.length },
      layers: [
        {
          mediaType: sniffMediaType(head),
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

const OCI_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';

/**
 * The layer's media type as cosign's upload blob picks it (Go's http.DetectContentType on the first 512
 * bytes), for the two outcomes that matter to a release file: text, or anything else as octet-stream.
 */
function sniffMediaType(head: Buffer): string {
  if (head.length === 0) return 'text/plain; charset=utf-8';
  // DetectContentType calls data binary when it holds a control byte other than tab, newline, FF, CR, ESC.
  for (const byte of head) {
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d && byte !== 0x1b)
      return 'application/octet-stream';
  }
  return 'text/plain; charset=utf-8';
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
