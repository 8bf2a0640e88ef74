import { createHash, createPublicKey } from 'node:crypto';
import type { TransparencyLogEntry } from '@sigstore/bundle';
import { postToService, type ServiceFetchOptions } from './service-fetch.js';

export type SignedContent =
  | { kind: 'messageSignature'; digest: Buffer; signature: Buffer }
  | { kind: 'dsseEnvelope'; payloadType: string; payload: Buffer; signature: Buffer };

/** The entry Rekor v1 is asked to log: `hashedrekord` 0.0.1 for a digest, `dsse` 0.0.1 for an envelope. */
export function proposedEntry(content: SignedContent, publicKeyPem: string): Record<string, unknown> {
  const verifier = Buffer.from(publicKeyPem, 'utf8').toString('base64');
  if (content.kind === 'messageSignature') {
    return {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: content.digest.toString('hex') } },
        signature: { content: content.signature.toString('base64'), publicKey: { content: verifier } },
      },
    };
  }
  // The envelope as cosign serializes it (payloadType, payload, signatures[{keyid, sig}]): Rekor's envelopeHash
  // is over exactly these bytes, and cosign's legacy `.att` layer must hold the same bytes to match it.
  const envelope = dsseEnvelopeText(content.payloadType, content.payload, content.signature);
  return { apiVersion: '0.0.1', kind: 'dsse', spec: { proposedContent: { envelope, verifiers: [verifier] } } };
}

/**
 * A one-signature DSSE envelope's JSON in cosign's field order, keyid "": what the `dsse` entry proposes and
 * what a legacy `.att` layer stores.
 */
export function dsseEnvelopeText(payloadType: string, payload: Buffer, signature: Buffer): string {
  return JSON.stringify({
    payloadType,
    payload: payload.toString('base64'),
    signatures: [{ keyid: '', sig: signature.toString('base64') }],
  });
}

interface RekorEntry {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification?: {
    signedEntryTimestamp?: string;
    inclusionProof?: { logIndex: number; treeSize: number; rootHash: string; hashes: string[]; checkpoint: string };
  };
}

/** POST /api/v1/log/entries; the answer `{uuid: entry}` as the bundle's TransparencyLogEntry. */
export async function createLogEntry(
  rekorUrl: string,
  entry: Record<string, unknown>,
  options: ServiceFetchOptions = {},
): Promise<TransparencyLogEntry> {
  const answer = JSON.parse(
    (
      await postToService('Rekor', `${rekorUrl.replace(/\/+$/, '')}/api/v1/log/entries`, JSON.stringify(entry), options)
    ).toString('utf8'),
  ) as Record<string, RekorEntry>;
  const logged = Object.values(answer)[0];
  if (!logged || typeof logged.body !== 'string' || typeof logged.logID !== 'string')
    throw new Error('no log entry in the answer');
  const body = Buffer.from(logged.body, 'base64');
  const kind = JSON.parse(body.toString('utf8')) as { kind: string; apiVersion: string };
  // The log must have logged what was proposed, not something else.
  const proposed = (entry.spec as { data?: { hash?: { value?: string } } }).data?.hash?.value;
  if (proposed !== undefined && !body.toString('utf8').includes(proposed))
    throw new Error('the logged entry is not the proposed one');
  const proof = logged.verification?.inclusionProof;
  const set = logged.verification?.signedEntryTimestamp;
  return {
    logIndex: String(logged.logIndex),
    logId: { keyId: Buffer.from(logged.logID, 'hex') },
    kindVersion: { kind: kind.kind, version: kind.apiVersion },
    integratedTime: String(logged.integratedTime),
    inclusionPromise: set ? { signedEntryTimestamp: Buffer.from(set, 'base64') } : undefined,
    inclusionProof: proof
      ? {
          logIndex: String(proof.logIndex),
          treeSize: String(proof.treeSize),
          rootHash: Buffer.from(proof.rootHash, 'hex'),
          hashes: proof.hashes.map((h) => Buffer.from(h, 'hex')),
          checkpoint: { envelope: proof.checkpoint },
        }
      : undefined,
    canonicalizedBody: body,
  } as TransparencyLogEntry;
}

/** RFC 3161 timestamp over the signature (Sigstore's TSA JSON request); the DER TimeStampResp. */
export async function createTimestamp(
  tsaUrl: string,
  signature: Buffer,
  options: ServiceFetchOptions = {},
): Promise<Buffer> {
  const url = new URL(tsaUrl).pathname === '/' ? `${tsaUrl.replace(/\/+$/, '')}/api/v1/timestamp` : tsaUrl;
  const body = JSON.stringify({
    artifactHash: createHash('sha256').update(signature).digest('base64'),
    hashAlgorithm: 'sha256',
  });
  return postToService('the timestamp authority', url, body, { ...options, accept: 'application/timestamp-reply' });
}

/**
 * The Rekor v2 request (`CreateEntryRequest` JSON) for the content: `hashedRekordRequestV002` for a digest,
 * `dsseRequestV002` for an envelope, with the certificate (keyless) or public key (keyed) as verifier. Keys
 * here are ECDSA P-256 (keyless always; keyed signing with a log takes only those).
 */
export function proposedEntryV2(
  content: SignedContent,
  verifierKey: { certificateDer: Buffer } | { publicKeyPem: string },
): Record<string, unknown> {
  const verifier = {
    ...('certificateDer' in verifierKey
      ? { x509Certificate: { rawBytes: verifierKey.certificateDer.toString('base64') } }
      : {
          publicKey: {
            rawBytes: createPublicKey(verifierKey.publicKeyPem)
              .export({ type: 'spki', format: 'der' })
              .toString('base64'),
          },
        }),
    keyDetails: 'PKIX_ECDSA_P256_SHA_256',
  };
  if (content.kind === 'messageSignature') {
    return {
      hashedRekordRequestV002: {
        digest: content.digest.toString('base64'),
        signature: { content: content.signature.toString('base64'), verifier },
      },
    };
  }
  return {
    dsseRequestV002: {
      envelope: {
        payload: content.payload.toString('base64'),
        payloadType: content.payloadType,
        signatures: [{ sig: content.signature.toString('base64'), keyid: '' }],
      },
      verifiers: [verifier],
    },
  };
}

/** POST /api/v2/log/entries: Rekor v2 answers the bundle's TransparencyLogEntry itself (no SET: no integrated time). */
export async function createLogEntryV2(
  rekorUrl: string,
  request: Record<string, unknown>,
  options: ServiceFetchOptions = {},
): Promise<TransparencyLogEntry> {
  const answer = JSON.parse(
    (
      await postToService(
        'Rekor',
        `${rekorUrl.replace(/\/+$/, '')}/api/v2/log/entries`,
        JSON.stringify(request),
        options,
      )
    ).toString('utf8'),
  ) as unknown;
  // protobuf-specs only here (Rekor v2): loading it is most of the signing half's load time (bundle-json.ts).
  const loaded = await import('@sigstore/protobuf-specs');
  // Bundled (tsup), a CommonJS module imported dynamically comes back as its default export only.
  const { TransparencyLogEntry: LogEntryMessage } = loaded.default ?? loaded;
  let entry: TransparencyLogEntry;
  try {
    entry = LogEntryMessage.fromJSON(answer) as TransparencyLogEntry;
  } catch {
    throw new Error('the answer is not a transparency log entry');
  }
  if (!entry.canonicalizedBody?.length || !entry.inclusionProof) throw new Error('no log entry in the answer');
  // The log must have logged what was proposed: the digest (or the signature) is in its body.
  const body = JSON.parse(entry.canonicalizedBody.toString('utf8')) as { spec?: Record<string, unknown> };
  const proposed = request.hashedRekordRequestV002 as { digest?: string } | undefined;
  const text = JSON.stringify(body.spec ?? {});
  if (proposed?.digest !== undefined && !text.includes(proposed.digest))
    throw new Error('the logged entry is not the proposed one');
  return entry;
}
