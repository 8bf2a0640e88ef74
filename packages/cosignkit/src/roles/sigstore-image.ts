import { createHash } from 'node:crypto';
import type { Digest } from '@cosignkit/core';
import type { SignatureFormat } from '@cosignkit/oci';
import { CosignkitError } from '@cosignkit/core';
import { cosignStatementPayload, resolvePredicateType } from '@cosignkit/dsse';
import {
  appendSignatureLayer,
  attachImageBundle,
  attachSignatureBundle,
  cosignSignStatement,
  formatImageReference,
  MEDIA_TYPES,
  repositoryName,
  resolveImage,
  SIGNATURE_ANNOTATION,
  signatureRepository,
  simpleSigningPayload,
} from '@cosignkit/oci';
import { legacySigstoreAnnotations, type SerializedSigstoreBundle } from './legacy-sigstore-annotations.js';
import { clientFor, digestOf } from './registry-access.js';
import { readPredicate } from './read-predicate.js';
import type { RoleOptions } from './role-options.js';

const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/**
 * What signs for a keyless (or keyed-with-a-log) image signature: @cosignkit/sigstore's BundleSigner, taken
 * by shape so that this package does not depend on the Sigstore clients. Each call returns a serialized v0.3
 * bundle with the certificate (or key hint) and the Rekor entry and/or timestamp.
 */
export interface SigstoreBundleSigner {
  signDigest(digest: Uint8Array, signal?: AbortSignal): Promise<SerializedSigstoreBundle>;
  signDsse(payloadType: string, payload: Uint8Array, signal?: AbortSignal): Promise<SerializedSigstoreBundle>;
}

export interface SigstoreImageOptions {
  signer: SigstoreBundleSigner;
  /** The CA chain above the Fulcio certificate (PEM); keyed signing has none. */
  chain?: () => Promise<string[]>;
  /** Checks the new bundle before anything is pushed (the CLI's --trusted-root). */
  check?: (bundle: SerializedSigstoreBundle, digest: Buffer | undefined) => Promise<void>;
  /** `legacy` (default): cosign 2.x's `.sig`/`.att` layer; `bundle`: cosign 3's Sigstore-bundle referrer. */
  format?: SignatureFormat;
  signal?: AbortSignal;
}

export interface SigstoreImageResult {
  image: string;
  digest: Digest;
  format: SignatureFormat;
  location: string;
  /** The Rekor entry's index, when one was made. */
  logIndex?: string;
}

/**
 * `cosign sign` with a certificate (or `--key … --tlog-upload`): the simple-signing payload signed, logged in
 * Rekor as a `hashedrekord` over its SHA-256, and pushed as a layer of the `sha256-<hex>.sig` image with the
 * certificate, chain and Rekor bundle annotations cosign 2.x writes, so `cosign verify
 * --certificate-identity …` checks it offline from the annotations. With `format: 'bundle'`, cosign v3's
 * layout instead: a DSSE statement of the signing predicate, its bundle pushed as a referrer of the image.
 */
export async function signImageWithSigstore(
  options: RoleOptions,
  image: string,
  o: SigstoreImageOptions & { annotations?: Record<string, string> },
): Promise<SigstoreImageResult> {
  const client = clientFor(options);
  const resolved = await resolveImage(client, image);
  const byDigest = formatImageReference({ ...resolved.ref, tag: undefined, digest: resolved.digest });
  const target = signatureRepository(resolved, options.env as NodeJS.ProcessEnv);
  if (o.format === 'bundle') {
    const statement = cosignSignStatement(resolved, o.annotations);
    const bundle = await o.signer.signDsse(IN_TOTO_PAYLOAD_TYPE, statement, o.signal);
    await o.check?.(bundle, undefined);
    const referrer = await attachSignatureBundle(client, target, resolved, bundleBytes(bundle));
    return result(byDigest, resolved.digest, `${target.registry}/${target.repository}@${referrer}`, bundle, 'bundle');
  }
  const payload = simpleSigningPayload(repositoryName(resolved.ref), resolved.digest, o.annotations);
  const digest = createHash('sha256').update(payload).digest();
  const bundle = await o.signer.signDigest(digest, o.signal);
  await o.check?.(bundle, digest);
  const signature = bundle.messageSignature?.signature;
  if (!signature) throw new CosignkitError('INTERNAL', 'the signer returned no message signature');
  const annotations = {
    [SIGNATURE_ANNOTATION]: signature,
    // The timestamp is over the raw signature, as cosign's TSA signer makes it for `sign`.
    ...legacySigstoreAnnotations(bundle, (await o.chain?.()) ?? [], true),
  };
  const { tag } = await appendSignatureLayer(client, target, resolved.digest, 'sig', {
    mediaType: MEDIA_TYPES.simpleSigning,
    bytes: payload,
    annotations,
  });
  return result(byDigest, resolved.digest, `${target.registry}/${target.repository}:${tag}`, bundle);
}

/**
 * `cosign attest` with a certificate (or a key and a log): the in-toto statement (v0.1, as cosign 2.x) in a
 * DSSE envelope, logged in Rekor as a `dsse` entry (cosign 2.x's default --rekor-entry-type), pushed as a
 * layer of the `sha256-<hex>.att` image with the certificate, chain and Rekor bundle annotations. No
 * timestamp annotation: cosign stamps the whole envelope there, the bundle's timestamp covers the signature.
 * With `format: 'bundle'` the bundle itself is pushed as a referrer (cosign attest --new-bundle-format).
 */
export async function attestImageWithSigstore(
  options: RoleOptions,
  image: string,
  o: SigstoreImageOptions & { predicate: string; type?: string },
): Promise<SigstoreImageResult & { predicateType: string }> {
  const type = o.type ?? 'custom';
  const predicateType = resolvePredicateType(type);
  const predicate = await readPredicate(o.predicate, type);
  const client = clientFor(options);
  const resolved = await resolveImage(client, image);
  const byDigest = formatImageReference({ ...resolved.ref, tag: undefined, digest: resolved.digest });
  const subject = { name: repositoryName(resolved.ref), digest: { sha256: resolved.digest.slice('sha256:'.length) } };
  const statement = Buffer.from(cosignStatementPayload({ type, predicate, subjects: [subject], version: 'v0.1' }));
  const bundle = await o.signer.signDsse(IN_TOTO_PAYLOAD_TYPE, statement, o.signal);
  await o.check?.(bundle, undefined);
  const target = signatureRepository(resolved, options.env as NodeJS.ProcessEnv);
  if (o.format === 'bundle') {
    const referrer = await attachImageBundle(client, target, resolved, bundleBytes(bundle), predicateType);
    const where = `${target.registry}/${target.repository}@${referrer}`;
    return { ...result(byDigest, resolved.digest, where, bundle, 'bundle'), predicateType };
  }
  const envelope = (
    bundle as { dsseEnvelope?: { payloadType: string; payload: string; signatures: { sig: string }[] } }
  ).dsseEnvelope;
  if (!envelope) throw new CosignkitError('INTERNAL', 'the signer returned no DSSE envelope');
  const bytes = Buffer.from(
    JSON.stringify({
      payloadType: envelope.payloadType,
      payload: envelope.payload,
      signatures: envelope.signatures.map((s) => ({ keyid: '', sig: s.sig })),
    }),
  );
  const { tag } = await appendSignatureLayer(client, target, resolved.digest, 'att', {
    mediaType: MEDIA_TYPES.dsseEnvelope,
    bytes,
    annotations: {
      [SIGNATURE_ANNOTATION]: '',
      predicateType,
      ...legacySigstoreAnnotations(bundle, (await o.chain?.()) ?? [], false),
    },
  });
  return {
    ...result(byDigest, resolved.digest, `${target.registry}/${target.repository}:${tag}`, bundle),
    predicateType,
  };
}

/** The bundle as it is stored in the registry: the signer's v0.3 JSON, as cosign v3 pushes it. */
function bundleBytes(bundle: SerializedSigstoreBundle): Buffer {
  return Buffer.from(JSON.stringify(bundle));
}

function result(
  image: string,
  digest: string,
  location: string,
  bundle: SerializedSigstoreBundle,
  format: SignatureFormat = 'legacy',
) {
  const logIndex = bundle.verificationMaterial?.tlogEntries?.[0]?.logIndex;
  return {
    image,
    digest: digestOf(digest),
    format,
    location,
    ...(logIndex !== undefined ? { logIndex: String(logIndex) } : {}),
  };
}
