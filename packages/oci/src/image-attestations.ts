import type { KeyManager } from '@cosignkit/core';
import { CosignkitError } from '@cosignkit/core';
import { BUNDLE_ANNOTATIONS } from './bundle-referrer.js';
import { serializeEnvelope, type Envelope } from '@cosignkit/dsse';
import { dsseBundleBytes, envelopeOfBundle, envelopeOfLayer, signCosignEnvelope } from './envelope-io.js';
import { repositoryName } from './image-reference.js';
import {
  attachImageBundle,
  checkStatementEnvelope,
  isAttestationPredicate,
  resolveAndReadAttached,
  resolveImage,
  signatureRepository,
  type FoundSignature,
  type ImageVerification,
  type ResolvedImage,
  type SignatureFormat,
} from './image-signatures.js';
import type { SignatureTrust } from './keyless-trust.js';
import { MEDIA_TYPES } from './media-types.js';
import type { RegistryClient } from './registry-client.js';
import { appendSignatureLayer, SIGNATURE_ANNOTATION, signatureTag } from './signature-image.js';

/** The in-toto subject of an image as cosign writes it: the repository name and the sha256 digest. */
export interface ImageSubject {
  name: string;
  digest: { sha256: string };
}

export interface AttestImageOptions {
  manager: KeyManager;
  keyId: string;
  predicateType: string;
  /**
   * Builds the statement bytes for the subject (@cosignkit/dsse's cosignStatementPayload gives cosign's
   * exact bytes, `custom` predicate wrapping included).
   */
  statement: (subject: ImageSubject) => Buffer;
  /** `legacy`: a layer of the `.att` image (cosign 2.x); `bundle`: a Sigstore-bundle referrer. */
  format?: SignatureFormat;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface ImageAttestation {
  digest: string;
  format: SignatureFormat;
  location: string;
  envelope: Envelope;
}

export async function attestImage(
  client: RegistryClient,
  image: string | ResolvedImage,
  o: AttestImageOptions,
): Promise<ImageAttestation> {
  const resolved = typeof image === 'string' ? await resolveImage(client, image) : image;
  const target = signatureRepository(resolved, o.env);
  const where = `${target.registry}/${target.repository}`;
  const subject = { name: repositoryName(resolved.ref), digest: { sha256: resolved.digest.slice('sha256:'.length) } };
  const envelope = await signCosignEnvelope(o.manager, o.keyId, o.statement(subject), o.signal);
  if (o.format === 'bundle') {
    const bundle = dsseBundleBytes(envelope, await o.manager.getPublicKey(o.keyId));
    const digest = await attachImageBundle(client, target, resolved, bundle, o.predicateType);
    return { digest: resolved.digest, format: 'bundle', location: `${where}@${digest}`, envelope };
  }
  const { tag } = await appendSignatureLayer(client, target, resolved.digest, 'att', {
    mediaType: MEDIA_TYPES.dsseEnvelope,
    bytes: Buffer.from(serializeEnvelope(envelope)),
    annotations: { [SIGNATURE_ANNOTATION]: '', predicateType: o.predicateType },
  });
  return { digest: resolved.digest, format: 'legacy', location: `${where}:${tag}`, envelope };
}

export interface VerifyAttestationsOptions {
  /** Only attestations of this predicate type count (cosign's --type, resolved to a URI). */
  predicateType?: string;
  env?: NodeJS.ProcessEnv;
}

/** Finds attestations in both layouts (`.att` layers and bundle referrers) and checks each against the keys. */
export async function verifyImageAttestations(
  client: RegistryClient,
  image: string,
  trust: SignatureTrust,
  o: VerifyAttestationsOptions = {},
): Promise<ImageVerification> {
  const {
    resolved,
    layers: { layers, failure },
    referrers: { referrers, failure: indexFailure },
  } = await resolveAndReadAttached(client, image, 'att', o.env);
  const found: FoundSignature[] = failure ? [{ format: 'legacy', verified: false, failure }] : [];
  if (indexFailure) found.push({ format: 'bundle', verified: false, failure: indexFailure });
  // The same rule for both layouts: the signing predicate is not an attestation, then the --type filter.
  const wanted = (type: string | undefined): boolean =>
    isAttestationPredicate(type) && (o.predicateType === undefined || type === undefined || type === o.predicateType);
  const tag = signatureTag(resolved.digest, 'att');
  for (const [i, layer] of layers.entries()) {
    const where = `${tag} layer ${i}`;
    if (!wanted(layer.annotations.predicateType)) continue;
    if (layer.failure) {
      found.push({ format: 'legacy', verified: false, failure: layer.failure });
      continue;
    }
    let envelope: Envelope;
    try {
      if (layer.mediaType !== MEDIA_TYPES.dsseEnvelope)
        throw new CosignkitError('ENVELOPE_MALFORMED', `${where} is a ${layer.mediaType}, not a DSSE envelope`);
      envelope = envelopeOfLayer(layer.bytes, where);
    } catch (error) {
      if (!CosignkitError.isInstance(error)) throw error;
      found.push({ format: 'legacy', verified: false, failure: { code: error.code, message: error.message } });
      continue;
    }
    const checked = checkStatementEnvelope(envelope, where, resolved.digest, trust, {
      annotations: layer.annotations,
    });
    if (checked.predicateType !== undefined && !wanted(checked.predicateType)) continue;
    found.push({ format: 'legacy', ...checked.result });
  }
  for (const r of referrers) {
    const annotated = r.annotations[BUNDLE_ANNOTATIONS.predicateType];
    if (!wanted(annotated)) continue;
    if (r.failure) {
      found.push({ format: 'bundle', verified: false, failure: r.failure });
      continue;
    }
    const where = `referrer ${r.manifestDigest}`;
    let envelope: Envelope;
    try {
      envelope = envelopeOfBundle(r.bundle, where);
    } catch (error) {
      if (!CosignkitError.isInstance(error)) throw error;
      found.push({ format: 'bundle', verified: false, failure: { code: error.code, message: error.message } });
      continue;
    }
    const checked = checkStatementEnvelope(envelope, where, resolved.digest, trust, { bundle: r.bundle });
    if (checked.predicateType !== undefined && !wanted(checked.predicateType)) continue;
    found.push({ format: 'bundle', ...checked.result });
  }
  return { digest: resolved.digest, found };
}
