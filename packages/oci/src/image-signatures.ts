import type { KeyObject } from 'node:crypto';
import type { KeyManager } from '@cosignkit/core';
import type { VerificationFailure } from '@cosignkit/core';
import { CosignkitError, MALFORMED_INPUT_CODES } from '@cosignkit/core';
import { fingerprintOf } from '@cosignkit/core';
import { attachBundleReferrer, BUNDLE_ANNOTATIONS, readBundleReferrers } from './bundle-referrer.js';
import { encodeBase64, envelopeToJson, type Envelope } from '@cosignkit/dsse';
import {
  dsseBundleBytes,
  envelopeOfBundle,
  readStatementFacts,
  signCosignEnvelope,
  verifyingKey,
} from './envelope-io.js';
import { parseImageReference, repositoryName, type ImageReference } from './image-reference.js';
import { MEDIA_TYPES } from './media-types.js';
import { signPayload, verifyPayload, type SignatureCheck } from '@cosignkit/core';
import {
  bundleCarriesCertificate,
  CERTIFICATE_ANNOTATION,
  isKeyless,
  isKeysAndKeyless,
  type KeylessSignatureVerifier,
  type SignatureTrust,
} from './keyless-trust.js';
import type { RegistryClient, Repository } from './registry-client.js';
import { appendSignatureLayer, readSignatureLayers, SIGNATURE_ANNOTATION, signatureTag } from './signature-image.js';
import { parseSimpleSigning, simpleSigningPayload } from './simple-signing.js';

const SIGNABLE = new Set<string>([
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
]);

/** The predicate type cosign v3 signs images with when it writes a bundle. */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

/**
 * One rule for both layouts: a statement of the signing predicate is an image signature, never an
 * attestation, so verify-attestation skips it as a `.att` layer exactly as it does as a referrer (else a
 * signature could be passed off as the attestation a policy asks for, with `--type` naming the predicate).
 */
export function isAttestationPredicate(predicateType: string | undefined): boolean {
  return predicateType !== COSIGN_SIGN_PREDICATE;
}

/**
 * The signature image's layers, or one failure when its manifest is malformed (then the other layout is
 * still read: a garbage `.sig` tag must not hide a good referrer). Other errors end the verification.
 */
async function readLayersOrFailure(
  read: () => ReturnType<typeof readSignatureLayers>,
): Promise<{ layers: Awaited<ReturnType<typeof readSignatureLayers>>; failure?: VerificationFailure }> {
  const { items, failure } = await readOrFailure(read, false);
  return { layers: items, failure };
}

/**
 * The bundle referrers, or one failure when the fallback index is not an index (NOT_AN_IMAGE): a garbage
 * index must not hide a good `.sig` layer either. Limits (REGISTRY_ERROR) and transport errors end it.
 */
async function readReferrersOrFailure(
  read: () => ReturnType<typeof readBundleReferrers>,
): Promise<{ referrers: Awaited<ReturnType<typeof readBundleReferrers>>; failure?: VerificationFailure }> {
  const { items, failure } = await readOrFailure(read, true);
  return { referrers: items, failure };
}

/**
 * Garbage (a malformed code) is recorded. A `.sig` tag holding JSON of another kind stays NOT_AN_IMAGE for the
 * whole command, as before; a fallback index of another kind only lists referrers, so it is recorded too.
 */
async function readOrFailure<T>(
  read: () => Promise<T[]>,
  notAnImageToo: boolean,
): Promise<{ items: T[]; failure?: VerificationFailure }> {
  try {
    return { items: await read() };
  } catch (error) {
    if (
      CosignkitError.isInstance(error) &&
      (MALFORMED_INPUT_CODES.has(error.code) || (notAnImageToo && error.code === 'NOT_AN_IMAGE'))
    ) {
      return { items: [], failure: { code: error.code, message: error.message } };
    }
    throw error;
  }
}

export type SignatureFormat = 'legacy' | 'bundle';

export interface ResolvedImage {
  ref: ImageReference;
  repo: Repository;
  digest: string;
  mediaType: string;
  size: number;
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
  return { ref, repo, digest: head.digest, mediaType: head.mediaType || MEDIA_TYPES.ociManifest, size: head.size };
}

/** Where signatures are stored: the image's repository, or COSIGN_REPOSITORY as cosign honours it. */
export function signatureRepository(
  image: Pick<ResolvedImage, 'repo'>,
  env: NodeJS.ProcessEnv = process.env,
): Repository {
  const override = env.COSIGN_REPOSITORY;
  if (!override) return image.repo;
  const ref = parseImageReference(`${override}:x`);
  return { registry: ref.registry, repository: ref.repository };
}

export interface SignImageOptions {
  manager: KeyManager;
  keyId: string;
  /** `legacy`: cosign 2.x's `.sig` tag; `bundle`: cosign 3's Sigstore-bundle referrer. Default bundle. */
  format?: SignatureFormat;
  annotations?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface ImageSignature {
  /** The signed manifest digest. */
  digest: string;
  format: SignatureFormat;
  /** Where it was written: `repo:sha256-<hex>.sig`, or `repo@<referrer manifest digest>`. */
  location: string;
  /** Base64 signature. */
  signature: string;
  repository: string;
}

export async function signImage(
  client: RegistryClient,
  image: string | ResolvedImage,
  o: SignImageOptions,
): Promise<ImageSignature> {
  const resolved = typeof image === 'string' ? await resolveImage(client, image) : image;
  const target = signatureRepository(resolved, o.env);
  const where = `${target.registry}/${target.repository}`;
  if (o.format === 'legacy') {
    const payload = simpleSigningPayload(repositoryName(resolved.ref), resolved.digest, o.annotations);
    const b64 = (await signPayload(o.manager, o.keyId, payload, o.signal)).toString('base64');
    const { tag } = await appendSignatureLayer(client, target, resolved.digest, 'sig', {
      mediaType: MEDIA_TYPES.simpleSigning,
      bytes: payload,
      annotations: { [SIGNATURE_ANNOTATION]: b64 },
    });
    return {
      digest: resolved.digest,
      format: 'legacy',
      location: `${where}:${tag}`,
      signature: b64,
      repository: where,
    };
  }
  const envelope = await signCosignEnvelope(o.manager, o.keyId, cosignSignStatement(resolved, o.annotations), o.signal);
  const bundle = dsseBundleBytes(envelope, await o.manager.getPublicKey(o.keyId));
  const manifestDigest = await attachSignatureBundle(client, target, resolved, bundle);
  return {
    digest: resolved.digest,
    format: 'bundle',
    location: `${where}@${manifestDigest}`,
    signature: encodeBase64(envelope.signatures[0]!.sig),
    repository: where,
  };
}

/**
 * What cosign v3 signs for an image in the bundle layout: an in-toto v1 statement naming the image's digest,
 * of the signing predicate, with the `-a` annotations as its predicate.
 */
export function cosignSignStatement(resolved: ResolvedImage, annotations?: Record<string, string>): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: repositoryName(resolved.ref), digest: { sha256: resolved.digest.slice('sha256:'.length) } }],
      predicateType: COSIGN_SIGN_PREDICATE,
      predicate: annotations && Object.keys(annotations).length > 0 ? { annotations } : {},
    }),
  );
}

/** Pushes a signature's bundle (a DSSE statement of the signing predicate) as a referrer of the image. */
export function attachSignatureBundle(
  client: RegistryClient,
  target: Repository,
  resolved: ResolvedImage,
  bundle: Buffer,
): Promise<string> {
  return attachImageBundle(client, target, resolved, bundle, COSIGN_SIGN_PREDICATE);
}

/** Pushes a DSSE bundle whose statement is of `predicateType` as a referrer of the image, as cosign v3 does. */
export function attachImageBundle(
  client: RegistryClient,
  target: Repository,
  resolved: ResolvedImage,
  bundle: Buffer,
  predicateType: string,
): Promise<string> {
  return attachBundleReferrer(client, target, subjectOf(resolved), bundle, {
    [BUNDLE_ANNOTATIONS.content]: 'dsse-envelope',
    [BUNDLE_ANNOTATIONS.predicateType]: predicateType,
  });
}

export function subjectOf(image: ResolvedImage): { mediaType: string; digest: string; size: number } {
  return { mediaType: image.mediaType, digest: image.digest, size: image.size };
}

/** One signature found for an image, checked. */
export interface FoundSignature {
  format: SignatureFormat;
  verified: boolean;
  keyFingerprint?: string;
  /** The simple-signing payload or the statement's predicate type. */
  payload?: Record<string, unknown>;
  failure?: VerificationFailure;
  /** Keyless: the signer's certificate identity, log entries and timestamps. */
  keyless?: SignatureCheck;
  /** Where it was found: a layer of the `.sig`/`.att` image (its index) or a bundle referrer (its manifest). */
  source?: { layer: number } | { referrer: string };
}

export interface ImageVerification {
  digest: string;
  found: FoundSignature[];
}

/**
 * Finds signatures in both layouts (`.sig` tag and bundle referrers) and checks each against the keys, or
 * keyless (the certificate, log entry and identity policy of each) when `trust` is a keyless verifier.
 */
export async function verifyImageSignatures(
  client: RegistryClient,
  image: string,
  trust: SignatureTrust,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ImageVerification> {
  const {
    resolved,
    layers: { layers, failure },
    referrers: { referrers, failure: indexFailure },
  } = await resolveAndReadAttached(client, image, 'sig', env);
  const found: FoundSignature[] = failure ? [{ format: 'legacy', verified: false, failure }] : [];
  if (indexFailure) found.push({ format: 'bundle', verified: false, failure: indexFailure });
  const tag = signatureTag(resolved.digest, 'sig');
  for (const [i, layer] of layers.entries()) {
    const where = `${tag} layer ${i}`;
    const push = (f: FoundSignature): void => void found.push({ ...f, source: { layer: i } });
    if (layer.failure) {
      push({ format: 'legacy', verified: false, failure: layer.failure });
      continue;
    }
    const fail = (code: VerificationFailure['code'], message: string): void => {
      push({ format: 'legacy', verified: false, failure: { code, message: `${where}: ${message}` } });
    };
    const b64 = layer.annotations[SIGNATURE_ANNOTATION];
    if (layer.mediaType !== MEDIA_TYPES.simpleSigning || !b64) {
      fail('SIGNATURE_MALFORMED', 'not a cosign simple-signing layer');
      continue;
    }
    let claimed;
    try {
      claimed = parseSimpleSigning(layer.bytes);
    } catch (error) {
      fail('SIGNATURE_MALFORMED', (error as Error).message);
      continue;
    }
    const signed = checkSignature(trust, where, () => ({
      carriesCertificate: () => Boolean(layer.annotations[CERTIFICATE_ANNOTATION]),
      keys: (k) => verifyPayload(k, layer.bytes, Buffer.from(b64, 'base64')),
      keyless: (v) =>
        v.verifyLayer(
          { kind: 'message', payload: layer.bytes, signature: Buffer.from(b64, 'base64') },
          layer.annotations,
          where,
        ),
    }));
    if (!signed.verified) {
      push({ format: 'legacy', verified: false, failure: signed.failure }); // names `where` already
    } else if (claimed.manifestDigest !== resolved.digest) {
      fail('VERIFICATION_FAILED', `signs ${claimed.manifestDigest}, not ${resolved.digest}`);
    } else {
      push({
        format: 'legacy',
        verified: true,
        ...signed.by,
        payload: JSON.parse(layer.bytes.toString('utf8')) as Record<string, unknown>,
      });
    }
  }
  for (const r of referrers) {
    const push = (f: FoundSignature): void => void found.push({ ...f, source: { referrer: r.manifestDigest } });
    if (
      r.annotations[BUNDLE_ANNOTATIONS.predicateType] &&
      r.annotations[BUNDLE_ANNOTATIONS.predicateType] !== COSIGN_SIGN_PREDICATE
    )
      continue;
    if (r.failure) {
      push({ format: 'bundle', verified: false, failure: r.failure });
      continue;
    }
    const checked = checkStatementBundle(r.bundle, `referrer ${r.manifestDigest}`, resolved.digest, trust);
    if (checked.predicateType !== undefined && checked.predicateType !== COSIGN_SIGN_PREDICATE) continue;
    push({ format: 'bundle', ...checked.result });
  }
  return { digest: resolved.digest, found };
}

/**
 * Resolves the image and reads both layouts of what is attached to it: the `suffix` image's layers and the
 * bundle referrers. By digest, where they are stored is known before the registry answers the HEAD, so the
 * reads start with it and a verification waits one round trip fewer. The HEAD's verdict still comes first
 * (an image that is not there is IMAGE_NOT_FOUND, whatever the reads found), and every read has settled
 * before this returns or throws: nothing is left running.
 */
export async function resolveAndReadAttached(
  client: RegistryClient,
  image: string,
  suffix: 'sig' | 'att',
  env: NodeJS.ProcessEnv = process.env,
): Promise<{
  resolved: ResolvedImage;
  layers: Awaited<ReturnType<typeof readLayersOrFailure>>;
  referrers: Awaited<ReturnType<typeof readReferrersOrFailure>>;
}> {
  const read = (ref: ImageReference, digest: string) => {
    const target = signatureRepository({ repo: { registry: ref.registry, repository: ref.repository } }, env);
    // cosign's signing payload without annotations, the usual case, is rebuilt rather than fetched.
    const expected = suffix === 'sig' ? [simpleSigningPayload(repositoryName(ref), digest)] : [];
    return Promise.all([
      readLayersOrFailure(() => readSignatureLayers(client, target, digest, suffix, expected)),
      readReferrersOrFailure(() => readBundleReferrers(client, target, digest)),
    ]);
  };
  const ref = parseImageReference(image);
  const head = resolveImage(client, image);
  // By tag, the reads need the digest the HEAD answers; by digest, they start with it.
  const reads = ref.digest ? read(ref, ref.digest) : head.then((resolved) => read(resolved.ref, resolved.digest));
  const [resolved, attached] = await Promise.allSettled([head, reads]);
  if (resolved.status === 'rejected') throw resolved.reason;
  if (attached.status === 'rejected') throw attached.reason;
  return { resolved: resolved.value, layers: attached.value[0], referrers: attached.value[1] };
}

/**
 * Checks a DSSE bundle whose statement must name `digest` as a subject. Malformed bundles are failures,
 * not exceptions, so that one garbage referrer does not hide the good ones.
 */
export function checkStatementBundle(
  bytes: Buffer,
  where: string,
  digest: string,
  trust: SignatureTrust,
): { predicateType?: string; result: Omit<FoundSignature, 'format'> } {
  try {
    const envelope = envelopeOfBundle(bytes, where);
    return checkStatementEnvelope(envelope, where, digest, trust, { bundle: bytes });
  } catch (error) {
    if (!CosignkitError.isInstance(error)) throw error;
    return { result: { verified: false, failure: { code: error.code, message: error.message } } };
  }
}

/**
 * Checks a DSSE envelope whose statement must name `digest`. Keyless, the envelope's certificate and log
 * entry come from where it was found: its bundle, or its `.att` layer's annotations.
 */
export function checkStatementEnvelope(
  envelope: Envelope,
  where: string,
  digest: string,
  trust: SignatureTrust,
  source: { bundle: Buffer } | { annotations: Record<string, string> },
): { predicateType?: string; result: Omit<FoundSignature, 'format'> } {
  let facts;
  try {
    facts = readStatementFacts(envelope, where);
  } catch (error) {
    if (!CosignkitError.isInstance(error)) throw error;
    return { result: { verified: false, failure: { code: error.code, message: error.message } } };
  }
  const payload = {
    predicateType: facts.predicateType,
    subjects: facts.subjects,
    ...(facts.annotations ? { annotations: facts.annotations } : {}),
  };
  const signed = checkSignature(trust, where, () => ({
    carriesCertificate: () =>
      'bundle' in source
        ? bundleCarriesCertificate(source.bundle)
        : Boolean(source.annotations[CERTIFICATE_ANNOTATION]),
    keys: (k) => verifyingKey(envelope, [k]) !== undefined,
    keyless: (v) =>
      'bundle' in source
        ? v.verifyBundle(source.bundle, digest, where)
        : v.verifyLayer({ kind: 'dsse', envelope: envelopeToJson(envelope) }, source.annotations, where),
  }));
  if (!signed.verified) {
    return { predicateType: facts.predicateType, result: { verified: false, payload, failure: signed.failure } };
  }
  const hex = digest.slice('sha256:'.length);
  if (!facts.subjects.some((s) => s?.digest?.sha256 === hex)) {
    return {
      predicateType: facts.predicateType,
      result: {
        verified: false,
        payload,
        failure: { code: 'VERIFICATION_FAILED', message: `${where}: no subject of the statement is ${digest}` },
      },
    };
  }
  return { predicateType: facts.predicateType, result: { verified: true, ...signed.by, payload } };
}

type SignedBy = Pick<FoundSignature, 'keyFingerprint' | 'keyless'>;

/**
 * One signature checked with the keys (the first that verifies) or keyless; with both, by what the signature
 * carries (a certificate: keyless). Either way a failure is a result, not a throw, so that one bad signature
 * does not hide the good ones.
 */
function checkSignature(
  given: SignatureTrust,
  where: string,
  how: () => {
    /** Whether the signature names a certificate (asked only when the trust holds both keys and keyless). */
    carriesCertificate: () => boolean;
    keys: (key: KeyObject) => boolean;
    keyless: (verifier: KeylessSignatureVerifier) => import('./keyless-trust.js').KeylessCheck;
  },
): { verified: true; by: SignedBy } | { verified: false; failure: VerificationFailure } {
  const { carriesCertificate, keys, keyless } = how();
  const trust = isKeysAndKeyless(given) ? (carriesCertificate() ? given.keyless : given.keys) : given;
  if (!isKeyless(trust)) {
    const key = trust.find(keys);
    return key
      ? { verified: true, by: { keyFingerprint: fingerprintOf(key) } }
      : {
          verified: false,
          failure: { code: 'VERIFICATION_FAILED', message: `${where}: no signature verifies with the given key` },
        };
  }
  let checked;
  try {
    checked = keyless(trust);
  } catch (error) {
    if (!CosignkitError.isInstance(error)) throw error;
    return { verified: false, failure: { code: error.code, message: `${where}: ${error.message}` } };
  }
  if (checked.malformed) {
    return {
      verified: false,
      failure: { code: checked.malformed.code, message: `${where}: ${checked.malformed.message}` },
    };
  }
  if (!checked.verified) {
    return {
      verified: false,
      failure: { code: 'VERIFICATION_FAILED', message: `${where}: ${checked.failures.join('; ') || 'not verified'}` },
    };
  }
  return { verified: true, by: checked.check ? { keyless: checked.check } : {} };
}
