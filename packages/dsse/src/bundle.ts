import { createHash, type KeyObject } from 'node:crypto';
import { CosignkitError, spkiDer } from '@cosignkit/core';
import { encodeBase64 } from './base64.js';
import { quoted } from './quote.js';
import { envelopeFromJson, isObject, parseJson, type Envelope } from './envelope.js';

export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const BUNDLE_MEDIA_TYPES = new Set([
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  BUNDLE_V03_MEDIA_TYPE,
]);

/** The hint cosign writes for a key: base64 of the SHA-256 of the SPKI DER. */
export function publicKeyHint(publicKey: KeyObject): string {
  return createHash('sha256').update(spkiDer(publicKey)).digest('base64');
}

/**
 * A Sigstore v0.3 bundle carrying a DSSE envelope, shaped as cosign's `attest-blob --new-bundle-format`
 * writes it for a key without a log: `publicKey.hint`, no tlog entries, signatures without keyid.
 */
export function serializeDsseBundle(envelope: Envelope, publicKey: KeyObject): string {
  return JSON.stringify({
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: publicKeyHint(publicKey) } },
    dsseEnvelope: {
      payload: encodeBase64(envelope.payload),
      payloadType: envelope.payloadType,
      signatures: envelope.signatures.map((s) =>
        s.keyid ? { sig: encodeBase64(s.sig), keyid: s.keyid } : { sig: encodeBase64(s.sig) },
      ),
    },
  });
}

export interface DsseBundle {
  mediaType: string;
  envelope: Envelope;
  /** `verificationMaterial.publicKey.hint`, when the bundle names a key. */
  publicKeyHint?: string;
  /** True when the bundle carries transparency-log entries. */
  hasTlogEntries: boolean;
}

/** Reads a Sigstore bundle (v0.1–v0.3) that carries a DSSE envelope. Malformed input is BUNDLE_MALFORMED. */
export function parseDsseBundle(text: string | Uint8Array): DsseBundle {
  const value = wrap(() => parseJson(text, 'bundle'));
  return dsseBundleFromJson(value);
}

export function dsseBundleFromJson(value: unknown): DsseBundle {
  if (!isObject(value)) throw malformed('bundle is not a JSON object');
  if (typeof value.mediaType !== 'string' || !BUNDLE_MEDIA_TYPES.has(value.mediaType)) {
    throw malformed(`bundle has unknown mediaType ${quoted(value.mediaType)}`);
  }
  if (value.messageSignature !== undefined && value.dsseEnvelope !== undefined) {
    // protobuf's oneof, as sigstore-go reads it: which one was signed would be ambiguous
    throw malformed('bundle has both a messageSignature and a dsseEnvelope');
  }
  if (value.dsseEnvelope === undefined) {
    throw malformed(
      value.messageSignature ? 'bundle holds a message signature, not an attestation' : 'bundle has no dsseEnvelope',
    );
  }
  const envelope = wrap(() => envelopeFromJson(value.dsseEnvelope));
  const material = isObject(value.verificationMaterial) ? value.verificationMaterial : {};
  const hint =
    isObject(material.publicKey) && typeof material.publicKey.hint === 'string' ? material.publicKey.hint : undefined;
  const bundle: DsseBundle = {
    mediaType: value.mediaType,
    envelope,
    hasTlogEntries: Array.isArray(material.tlogEntries) && material.tlogEntries.length > 0,
  };
  if (hint !== undefined) bundle.publicKeyHint = hint;
  return bundle;
}

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (CosignkitError.isInstance(error) && error.code === 'ENVELOPE_MALFORMED') {
      throw new CosignkitError('BUNDLE_MALFORMED', error.message.replace(/^envelope/, 'bundle envelope'), {
        cause: error,
      });
    }
    throw error;
  }
}

function malformed(message: string): CosignkitError {
  return new CosignkitError('BUNDLE_MALFORMED', message);
}

/**
 * cosign's legacy attestation bundle (`attest-blob --bundle` without the new format): the envelope JSON in
 * base64 as `base64Signature`, the public key PEM in base64 as `cert`.
 */
export function serializeLegacyAttestationBundle(envelopeJson: string, publicKeyPem: string): string {
  return JSON.stringify({
    base64Signature: Buffer.from(envelopeJson, 'utf8').toString('base64'),
    cert: Buffer.from(publicKeyPem, 'utf8').toString('base64'),
  });
}
