import { BUNDLE_ANNOTATIONS, readBundleReferrers } from './bundle-referrer.js';
import { CosignkitError } from '@cosignkit/core';
import { COSIGN_SIGN_PREDICATE, resolveImage, signatureRepository } from './image-signatures.js';
import type { RegistryClient } from './registry-client.js';
import { REGISTRY_LIMITS } from './registry-limits.js';
import {
  readSignatureLayers,
  SIGNATURE_ANNOTATION,
  signatureTag,
  type SignatureLayer,
  type SignatureSuffix,
} from './signature-image.js';

export type AttachmentKind = 'signature' | 'attestation' | 'sbom';

export interface Attachment {
  kind: AttachmentKind;
  /** `tag` for cosign's legacy tag images, `referrer` for OCI 1.1 Sigstore-bundle referrers. */
  via: 'tag' | 'referrer';
  /** The tag (legacy) or the referrer manifest digest. */
  reference: string;
  /** The layer digests (legacy) or the bundle's predicate type. */
  items: string[];
}

const SUFFIXES: readonly [SignatureSuffix, AttachmentKind][] = [
  ['sig', 'signature'],
  ['att', 'attestation'],
  ['sbom', 'sbom'],
];

/** What is attached to an image (cosign tree): legacy tag images and bundle referrers. */
export async function listAttachments(
  client: RegistryClient,
  image: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ digest: string; repository: string; attachments: Attachment[] }> {
  const resolved = await resolveImage(client, image);
  const target = signatureRepository(resolved, env);
  const attachments: Attachment[] = [];
  for (const [suffix, kind] of SUFFIXES) {
    const tag = signatureTag(resolved.digest, suffix);
    const found = await client.findManifest(target, tag);
    if (!found) continue;
    const manifest = parseJsonOr(found.bytes, {});
    const layers = Array.isArray(manifest.layers)
      ? (manifest.layers as unknown[]).slice(0, REGISTRY_LIMITS.signatureLayers)
      : [];
    attachments.push({
      kind,
      via: 'tag',
      reference: tag,
      items: layers.map((l) => String((l as { digest?: unknown } | null)?.digest)),
    });
  }
  for (const r of await readBundleReferrers(client, target, resolved.digest)) {
    const type = r.annotations[BUNDLE_ANNOTATIONS.predicateType] ?? '';
    attachments.push({
      kind: type === COSIGN_SIGN_PREDICATE ? 'signature' : 'attestation',
      via: 'referrer',
      reference: r.manifestDigest,
      items: [type],
    });
  }
  return { digest: resolved.digest, repository: `${target.registry}/${target.repository}`, attachments };
}

/** Removes attachments of the given kinds (cosign clean): tag images by digest, referrers and their fallback index. */
export async function cleanAttachments(
  client: RegistryClient,
  image: string,
  kinds: readonly AttachmentKind[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ digest: string; removed: string[] }> {
  const listed = await listAttachments(client, image, env);
  const resolved = await resolveImage(client, image);
  const target = signatureRepository(resolved, env);
  const removed: string[] = [];
  const chosen = listed.attachments.filter((a) => kinds.includes(a.kind));
  for (const a of chosen) {
    const digest = a.via === 'tag' ? (await client.resolve(target, a.reference)).digest : a.reference;
    await client.deleteManifest(target, digest);
    removed.push(a.reference);
  }
  const keep = listed.attachments.filter((a) => a.via === 'referrer' && !kinds.includes(a.kind));
  if (chosen.some((a) => a.via === 'referrer') && keep.length === 0) {
    // The fallback index only lists referrers: with none left, it goes too.
    const tag = resolved.digest.replace(':', '-');
    const index = await client.findManifest(target, tag);
    if (index) {
      await client.deleteManifest(target, index.digest);
      removed.push(tag);
    }
  } else if (chosen.some((a) => a.via === 'referrer')) {
    const tag = resolved.digest.replace(':', '-');
    const index = await client.findManifest(target, tag);
    if (index) {
      const parsed = parseJsonOr(index.bytes, { manifests: [] }) as { manifests: { digest: string }[] };
      const gone = new Set(chosen.map((a) => a.reference));
      parsed.manifests = (Array.isArray(parsed.manifests) ? parsed.manifests : []).filter((d) => !gone.has(d?.digest));
      await client.putManifest(
        target,
        tag,
        Buffer.from(JSON.stringify(parsed)),
        'application/vnd.oci.image.index.v1+json',
      );
    }
  }
  return { digest: resolved.digest, removed };
}

/** cosign download signature: one object per signature, cosign's field names. */
export async function downloadSignatures(
  client: RegistryClient,
  image: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, unknown>[]> {
  const resolved = await resolveImage(client, image);
  const target = signatureRepository(resolved, env);
  const out: Record<string, unknown>[] = readable(
    await readSignatureLayers(client, target, resolved.digest, 'sig'),
  ).map((l) => ({
    Base64Signature: l.annotations[SIGNATURE_ANNOTATION] ?? '',
    Payload: l.bytes.toString('base64'),
    Cert: null,
    Chain: null,
    Bundle: null,
    RFC3161Timestamp: null,
  }));
  for (const r of readable(await readBundleReferrers(client, target, resolved.digest))) {
    if (r.annotations[BUNDLE_ANNOTATIONS.predicateType] === COSIGN_SIGN_PREDICATE)
      out.push(parseJsonOr(r.bundle, { unparsable: r.bundle.toString('base64') }));
  }
  return out;
}

/** cosign download attestation: the DSSE envelopes (legacy) and the bundles (referrers). */
export async function downloadAttestations(
  client: RegistryClient,
  image: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, unknown>[]> {
  const resolved = await resolveImage(client, image);
  const target = signatureRepository(resolved, env);
  const out: Record<string, unknown>[] = [];
  for (const l of readable(await readSignatureLayers(client, target, resolved.digest, 'att'))) {
    out.push(parseJsonOr(l.bytes, { unparsable: l.bytes.toString('base64') }));
  }
  for (const r of readable(await readBundleReferrers(client, target, resolved.digest))) {
    if (r.annotations[BUNDLE_ANNOTATIONS.predicateType] !== COSIGN_SIGN_PREDICATE)
      out.push(parseJsonOr(r.bundle, { unparsable: r.bundle.toString('base64') }));
  }
  return out;
}

/** A registry's bytes as JSON, or `fallback` when they are not (a garbage layer is shown, not fatal). */
function parseJsonOr(bytes: Buffer, fallback: Record<string, unknown>): Record<string, unknown> {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : fallback;
  } catch {
    return fallback;
  }
}

/** download hands over what it read: a layer or referrer that could not be read ends it with its code. */
function readable<T extends Pick<SignatureLayer, 'failure'>>(items: T[]): T[] {
  const failed = items.find((i) => i.failure);
  if (failed?.failure) throw new CosignkitError(failed.failure.code, failed.failure.message);
  return items;
}
