import { createHash, type KeyObject } from 'node:crypto';
import { CosignkitError } from '@cosignkit/core';
import { spkiDer } from '@cosignkit/core';
import { parseDsse, type DsseEnvelope } from './dsse-envelope.js';
import { MEDIA_TYPES } from './media-types.js';

/** A v0.3 Sigstore bundle carrying a DSSE envelope, key-based, no log: cosign's field order. */
export function dsseBundleJson(envelope: DsseEnvelope, publicKey: KeyObject): Buffer {
  const hint = createHash('sha256').update(spkiDer(publicKey)).digest('base64');
  return Buffer.from(
    JSON.stringify({
      mediaType: MEDIA_TYPES.sigstoreBundle,
      verificationMaterial: { publicKey: { hint } },
      dsseEnvelope: {
        payload: envelope.payload,
        payloadType: envelope.payloadType,
        signatures: envelope.signatures.map((s) => ({ sig: s.sig })),
      },
    }),
  );
}

const BUNDLE_TYPES = new Set([
  'application/vnd.dev.sigstore.bundle.v0.3+json',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
]);

/** The DSSE envelope inside a Sigstore bundle; bundles of other content are refused as malformed here. */
export function envelopeOfBundle(bytes: Buffer, where: string): DsseEnvelope {
  let bundle: { mediaType?: unknown; dsseEnvelope?: unknown; messageSignature?: unknown };
  try {
    bundle = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new CosignkitError('BUNDLE_MALFORMED', `${where} is not JSON`, { cause: error });
  }
  if (typeof bundle?.mediaType !== 'string' || !BUNDLE_TYPES.has(bundle.mediaType)) {
    throw new CosignkitError('BUNDLE_MALFORMED', `${where} is not a Sigstore bundle`);
  }
  if (bundle.messageSignature !== undefined && bundle.dsseEnvelope !== undefined) {
    throw new CosignkitError('BUNDLE_MALFORMED', `${where} has both a messageSignature and a dsseEnvelope`);
  }
  if (!bundle.dsseEnvelope) {
    throw new CosignkitError(
      'BUNDLE_MALFORMED',
      `${where} carries no DSSE envelope (message-signature bundles of images are not supported)`,
    );
  }
  return parseDsse(bundle.dsseEnvelope, `${where} envelope`);
}
