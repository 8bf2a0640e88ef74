import { createHash } from 'node:crypto';
import { pae } from '@cosignkit/core';
import { bundleToJSON, type Bundle, type SerializedBundle } from '@sigstore/bundle';
import { HashAlgorithm } from '@sigstore/protobuf-specs';
import { RekorWitness, TSAWitness, type SignatureBundle, type Witness } from '@sigstore/sign';
import { serviceError, type SigstoreService } from './service-error.js';
import type { SigningServices } from './signing-services.js';
import type { SigningKey, SigningKeyMaterial } from './signing-key.js';

export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export interface BundleSignerOptions {
  key: SigningKey;
  services: SigningServices;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  retries?: number;
}

interface NamedWitness {
  service: SigstoreService;
  url: string;
  witness: Witness;
}

/**
 * Signs digests and DSSE payloads into Sigstore v0.3 bundles: the key's signature, then (in parallel) a Rekor
 * v1 entry and/or an RFC 3161 timestamp as the services say, through @sigstore/sign's witnesses. The bundle
 * is put together here rather than by MessageSignatureBundleBuilder, which takes the whole artifact in memory
 * and writes v0.2 with a certificate chain: here the artifact is hashed by the caller (streamed), and v0.3
 * carries the single leaf certificate. Calls may run concurrently: one key (and certificate) serves them all.
 */
export class BundleSigner {
  readonly #messageWitnesses: NamedWitness[];
  readonly #dsseWitnesses: NamedWitness[];

  constructor(private readonly options: BundleSignerOptions) {
    const fetchOptions = { timeout: options.timeoutMs ?? 10_000, retry: { retries: options.retries ?? 1, minTimeout: 200, maxTimeout: 1000 } };
    const make = (entryType: 'dsse' | undefined): NamedWitness[] => {
      const list: NamedWitness[] = [];
      const { rekorUrl, tsaUrl } = options.services;
      if (rekorUrl) list.push({ service: 'Rekor', url: rekorUrl, witness: new RekorWitness({ rekorBaseURL: rekorUrl, majorApiVersion: 1, ...(entryType ? { entryType } : {}), ...fetchOptions }) });
      if (tsaUrl) list.push({ service: 'the timestamp authority', url: tsaUrl, witness: new TSAWitness({ tsaBaseURL: tsaUrl, ...fetchOptions }) });
      return list;
    };
    this.#messageWitnesses = make(undefined);
    this.#dsseWitnesses = make('dsse');
  }

  /** A bundle for an artifact whose SHA-256 digest the caller computed (cosign sign-blob). */
  async signDigest(digest: Uint8Array, signal?: AbortSignal): Promise<SerializedBundle> {
    if (digest.length !== 32) throw new RangeError('a SHA-256 digest is 32 bytes');
    const signature = Buffer.from(await this.options.key.signDigest(digest, signal));
    const content: SignatureBundle = {
      $case: 'messageSignature',
      messageSignature: { messageDigest: { algorithm: HashAlgorithm.SHA2_256, digest: Buffer.from(digest) }, signature },
    };
    return this.#assemble(content, this.#messageWitnesses);
  }

  /** A bundle carrying a DSSE envelope over the payload (cosign attest-blob). */
  async signDsse(payloadType: string, payload: Uint8Array, signal?: AbortSignal): Promise<SerializedBundle> {
    const digest = createHash('sha256').update(pae(payloadType, payload)).digest();
    const sig = Buffer.from(await this.options.key.signDigest(digest, signal));
    const content: SignatureBundle = {
      $case: 'dsseEnvelope',
      // keyid "" as cosign writes it.
      dsseEnvelope: { payloadType, payload: Buffer.from(payload), signatures: [{ keyid: '', sig }] },
    };
    return this.#assemble(content, this.#dsseWitnesses);
  }

  async #assemble(content: SignatureBundle, witnesses: NamedWitness[]): Promise<SerializedBundle> {
    const material = await this.options.key.material();
    const results = await Promise.all(
      witnesses.map(async ({ service, url, witness }) => {
        try {
          return await witness.testify(content, material.pem);
        } catch (error) {
          throw serviceError(service, url, error);
        }
      }),
    );
    const tlogEntries = results.flatMap((r) => r.tlogEntries ?? []);
    const rfc3161Timestamps = results.flatMap((r) => r.rfc3161Timestamps ?? []);
    const bundle = {
      mediaType: BUNDLE_V03_MEDIA_TYPE,
      verificationMaterial: {
        content: verificationContent(material),
        tlogEntries,
        timestampVerificationData: { rfc3161Timestamps },
      },
      content,
    } as Bundle;
    return bundleToJSON(bundle);
  }
}

function verificationContent(material: SigningKeyMaterial): Bundle['verificationMaterial']['content'] {
  return material.kind === 'certificate'
    ? { $case: 'certificate', certificate: { rawBytes: material.der } }
    : { $case: 'publicKey', publicKey: { hint: material.hint } };
}
