import { createHash, verify as verifySignature, type KeyObject } from 'node:crypto';
import type { KeyManager } from '../contracts/key-manager.js';
import type { SignatureCheck, VerificationFailure } from '../contracts/verification-result.js';
import { CosignkitError } from '../errors.js';
import { ALGORITHMS, fingerprintOf } from '../keys/algorithms.js';
import { parseImageReference, repositoryName, type ImageReference } from './image-reference.js';
import { MEDIA_TYPES } from './media-types.js';
import type { RegistryClient, Repository } from './registry-client.js';
import { appendSignatureLayer, readSignatureLayers, SIGNATURE_ANNOTATION } from './signature-image.js';
import { parseSimpleSigning, simpleSigningPayload } from './simple-signing.js';

const SIGNABLE = new Set<string>([
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
]);

export interface ResolvedImage {
  ref: ImageReference;
  repo: Repository;
  digest: string;
}

/** Resolves a tag to the digest that gets signed (always the digest, never the tag). */
export async function resolveImage(client: RegistryClient, image: string): Promise<ResolvedImage> {
  const ref = parseImageReference(image);
  const repo = { registry: ref.registry, repository: ref.repository };
  const head = await client.resolve(repo, ref.digest ?? ref.tag!);
  if (head.mediaType && !SIGNABLE.has(head.mediaType)) {
    throw new CosignkitError('NOT_AN_IMAGE', `${image} is a ${head.mediaType}, not an image manifest or index`);
  }
  if (ref.digest && head.digest !== ref.digest) {
    throw new CosignkitError('REGISTRY_ERROR', `${image}: the registry answered with digest ${head.digest}`);
  }
  return { ref, repo, digest: head.digest };
}

/** Where signatures are stored: the image's repository, or COSIGN_REPOSITORY as cosign honours it. */
export function signatureRepository(image: ResolvedImage, env: NodeJS.ProcessEnv = process.env): Repository {
  const override = env.COSIGN_REPOSITORY;
  if (!override) return image.repo;
  const ref = parseImageReference(`${override}:x`);
  return { registry: ref.registry, repository: ref.repository };
}

export interface SignImageOptions {
  manager: KeyManager;
  keyId: string;
  annotations?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** cosign's legacy layout: a simple-signing layer in the `sha256-<hex>.sig` image. */
export async function signImageLegacy(client: RegistryClient, image: string, o: SignImageOptions): Promise<{
  digest: string;
  signatureTag: string;
  signature: string;
  repository: string;
}> {
  const resolved = await resolveImage(client, image);
  const payload = simpleSigningPayload(repositoryName(resolved.ref), resolved.digest, o.annotations);
  const algorithm = await o.manager.getAlgorithm(o.keyId);
  const signature = algorithm === 'ed25519'
    ? await o.manager.signMessage!(o.keyId, payload, { signal: o.signal })
    : await o.manager.signDigest(o.keyId, createHash(ALGORITHMS[algorithm].hash).update(payload).digest(), { signal: o.signal });
  const b64 = Buffer.from(signature).toString('base64');
  const target = signatureRepository(resolved, o.env);
  const { tag } = await appendSignatureLayer(client, target, resolved.digest, 'sig', {
    mediaType: MEDIA_TYPES.simpleSigning,
    bytes: payload,
    annotations: { [SIGNATURE_ANNOTATION]: b64 },
  });
  return { digest: resolved.digest, signatureTag: `${target.registry}/${target.repository}:${tag}`, signature: b64, repository: repositoryName(target) };
}

export interface ImageVerification {
  digest: string;
  signatures: (SignatureCheck & { payload?: Record<string, unknown> })[];
  failures: VerificationFailure[];
}

/** Checks every legacy `.sig` layer of the image against the given public keys. */
export async function verifyImageLegacy(
  client: RegistryClient,
  image: string,
  publicKeys: KeyObject[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ImageVerification> {
  const resolved = await resolveImage(client, image);
  const layers = await readSignatureLayers(client, signatureRepository(resolved, env), resolved.digest, 'sig');
  const signatures: ImageVerification['signatures'] = [];
  const failures: VerificationFailure[] = [];
  for (const [i, layer] of layers.entries()) {
    const b64 = layer.annotations[SIGNATURE_ANNOTATION];
    if (layer.mediaType !== MEDIA_TYPES.simpleSigning || !b64) {
      failures.push({ code: 'SIGNATURE_MALFORMED', message: `signature layer ${i} is not a cosign simple-signing layer` });
      continue;
    }
    let claimed;
    try {
      claimed = parseSimpleSigning(layer.bytes);
    } catch (error) {
      failures.push({ code: 'SIGNATURE_MALFORMED', message: `signature layer ${i}: ${(error as Error).message}` });
      continue;
    }
    const signature = Buffer.from(b64, 'base64');
    const key = publicKeys.find((k) => verifyWith(k, layer.bytes, signature));
    if (!key) {
      failures.push({ code: 'VERIFICATION_FAILED', message: `signature layer ${i} does not verify with the given key` });
      continue;
    }
    if (claimed.manifestDigest !== resolved.digest) {
      failures.push({ code: 'VERIFICATION_FAILED', message: `signature layer ${i} signs ${claimed.manifestDigest}, not ${resolved.digest}` });
      continue;
    }
    signatures.push({ verified: true, keyFingerprint: fingerprintOf(key), payload: { ...claimed } });
  }
  if (layers.length === 0) failures.push({ code: 'VERIFICATION_FAILED', message: `no signatures found for ${image}` });
  return { digest: resolved.digest, signatures, failures };
}

function verifyWith(key: KeyObject, payload: Buffer, signature: Buffer): boolean {
  try {
    if (key.asymmetricKeyType === 'ed25519') return verifySignature(null, payload, key, signature);
    const curve = key.asymmetricKeyDetails?.namedCurve;
    // cosign signs image payloads with SHA-256 on P-256, SHA-384 on P-384.
    return verifySignature(curve === 'secp384r1' ? 'sha384' : 'sha256', payload, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}
