import { createHash } from 'node:crypto';
import { pae } from '@cosignkit/dsse';
import type { Bundle, SerializedBundle, TransparencyLogEntry } from '@sigstore/bundle';
import { serializeBundle } from './bundle-json.js';
import {
  createLogEntry,
  createLogEntryV2,
  createTimestamp,
  proposedEntry,
  proposedEntryV2,
  type SignedContent,
} from './rekor-client.js';
import { serviceError } from './service-error.js';
import type { ServiceFetchOptions } from './service-fetch.js';
import type { SigningServices } from './signing-services.js';
import type { SigningKey, SigningKeyMaterial } from './signing-key.js';

export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** protobuf-specs' HashAlgorithm.SHA2_256 (this file does not load protobuf-specs: bundle-json.ts says why). */
const SHA2_256 = 1;

export interface BundleSignerOptions {
  key: SigningKey;
  services: SigningServices;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  retries?: number;
}

/**
 * Signs digests and DSSE payloads into Sigstore v0.3 bundles: the key's signature, then (in parallel) a Rekor
 * v1 or v2 entry and/or an RFC 3161 timestamp as the services say. The bundle is put together here rather than by
 * @sigstore/sign's MessageSignatureBundleBuilder, which takes the whole artifact in memory and writes v0.2
 * with a certificate chain: here the artifact is hashed by the caller (streamed), and v0.3 carries the single
 * leaf certificate. The requests use Node's fetch (see service-fetch.ts). Calls may run concurrently: one key
 * (and certificate) serves them all, each with its own log upload.
 */
export class BundleSigner {
  constructor(private readonly options: BundleSignerOptions) {}

  /** A bundle for an artifact whose SHA-256 digest the caller computed (cosign sign-blob). */
  async signDigest(digest: Uint8Array, signal?: AbortSignal): Promise<SerializedBundle> {
    if (digest.length !== 32) throw new RangeError('a SHA-256 digest is 32 bytes');
    const signed = await this.#sign(digest, signal);
    const signature = Buffer.from(signed.signature);
    const content: Bundle['content'] = {
      $case: 'messageSignature',
      messageSignature: {
        messageDigest: { algorithm: SHA2_256, digest: Buffer.from(digest) },
        signature,
      },
    };
    return this.#assemble(
      content,
      { kind: 'messageSignature', digest: Buffer.from(digest), signature },
      signed.material,
      signal,
    );
  }

  /** A bundle carrying a DSSE envelope over the payload (cosign attest-blob). */
  async signDsse(payloadType: string, payload: Uint8Array, signal?: AbortSignal): Promise<SerializedBundle> {
    const digest = createHash('sha256').update(pae(payloadType, payload)).digest();
    const signed = await this.#sign(digest, signal);
    const sig = Buffer.from(signed.signature);
    const content: Bundle['content'] = {
      $case: 'dsseEnvelope',
      // keyid "" as cosign writes it.
      dsseEnvelope: { payloadType, payload: Buffer.from(payload), signatures: [{ keyid: '', sig }] },
    };
    return this.#assemble(
      content,
      { kind: 'dsseEnvelope', payloadType, payload: Buffer.from(payload), signature: sig },
      signed.material,
      signal,
    );
  }

  /** The signature and the key's material (certificate or hint), of the same key. */
  async #sign(
    digest: Uint8Array,
    signal?: AbortSignal,
  ): Promise<{ signature: Uint8Array; material: SigningKeyMaterial }> {
    const { key } = this.options;
    if (key.signDigestWithMaterial) return key.signDigestWithMaterial(digest, signal);
    const signature = await key.signDigest(digest, signal);
    return { signature, material: await key.material(signal) };
  }

  async #assemble(
    content: Bundle['content'],
    signed: SignedContent,
    material: SigningKeyMaterial,
    signal?: AbortSignal,
  ): Promise<SerializedBundle> {
    const { rekorUrl, tsaUrl } = this.options.services;
    const fetchOptions: ServiceFetchOptions = {
      ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
      ...(this.options.retries !== undefined ? { retries: this.options.retries } : {}),
      ...(signal ? { signal } : {}),
    };
    const [tlogEntries, rfc3161Timestamps] = await Promise.all([
      rekorUrl
        ? (this.options.services.rekorApiVersion === 2
            ? createLogEntryV2(
                rekorUrl,
                proposedEntryV2(
                  signed,
                  material.kind === 'certificate' ? { certificateDer: material.der } : { publicKeyPem: material.pem },
                ),
                fetchOptions,
              )
            : createLogEntry(rekorUrl, proposedEntry(signed, material.pem), fetchOptions)
          ).then(
            (entry) => [entry],
            (error: unknown) => {
              throw serviceError('Rekor', rekorUrl, error);
            },
          )
        : Promise.resolve([] as TransparencyLogEntry[]),
      tsaUrl
        ? createTimestamp(tsaUrl, signed.signature, fetchOptions).then(
            (signedTimestamp) => [{ signedTimestamp }],
            (error: unknown) => {
              throw serviceError('the timestamp authority', tsaUrl, error);
            },
          )
        : Promise.resolve([]),
    ]);
    const bundle = {
      mediaType: BUNDLE_V03_MEDIA_TYPE,
      verificationMaterial: {
        content: verificationContent(material),
        tlogEntries,
        timestampVerificationData: { rfc3161Timestamps },
      },
      content,
    } as Bundle;
    return serializeBundle(bundle);
  }
}

function verificationContent(material: SigningKeyMaterial): Bundle['verificationMaterial']['content'] {
  return material.kind === 'certificate'
    ? { $case: 'certificate', certificate: { rawBytes: material.der } }
    : { $case: 'publicKey', publicKey: { hint: material.hint } };
}
