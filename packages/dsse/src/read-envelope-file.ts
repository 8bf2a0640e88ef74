import type { KeyObject } from 'node:crypto';
import { CosignkitError, legacyBundleKey, readBoundedFile } from '@cosignkit/core';
import { decodeBase64 } from './base64.js';
import { dsseBundleFromJson, type DsseBundle } from './bundle.js';
import { envelopeFromJson, isObject, parseJson, type Envelope } from './envelope.js';

/** Envelopes carry whole SBOMs, so they may be large; beyond this they are refused rather than read. */
const MAX_ENVELOPE_BYTES = 256 * 1024 * 1024;

export interface EnvelopeSource {
  envelope: Envelope;
  /** How the file held it. */
  form: 'envelope' | 'base64-envelope' | 'bundle' | 'legacy-bundle';
  bundle?: DsseBundle;
  /** A legacy bundle's `cert` key: the envelope must be verified by it (cosign checks against this key). */
  certificateKey?: KeyObject;
}

/**
 * Reads a DSSE envelope from a file holding a bare envelope (as `attest-blob --output-file` writes), the
 * same in base64, a Sigstore bundle with a `dsseEnvelope`, or cosign's legacy `{"base64Signature": …}`
 * attestation bundle. Unparseable content is ENVELOPE_MALFORMED or BUNDLE_MALFORMED, with one line.
 */
export async function readEnvelopeFile(path: string): Promise<EnvelopeSource> {
  const bytes = await readBoundedFile(path, {
    maxBytes: MAX_ENVELOPE_BYTES,
    tooLargeCode: 'ENVELOPE_MALFORMED',
    what: 'an envelope',
  });
  try {
    return envelopeFromText(bytes);
  } catch (error) {
    if (CosignkitError.isInstance(error)) error.message = `${path}: ${error.message}`;
    throw error;
  }
}

export function envelopeFromText(bytes: Uint8Array): EnvelopeSource {
  const text = Buffer.from(bytes).toString('utf8').trim();
  if (text !== '' && !text.startsWith('{') && !text.startsWith('[') && /^[A-Za-z0-9+/_=\s-]+$/.test(text)) {
    // cosign accepts a --signature file holding the envelope in base64.
    const decoded = safeBase64(text.replace(/\s+/g, ''));
    if (decoded?.toString('utf8').trimStart().startsWith('{')) {
      return { envelope: envelopeFromJson(parseJson(decoded, 'envelope (base64-decoded)')), form: 'base64-envelope' };
    }
  }
  const value = parseJson(text, 'envelope');
  if (isObject(value) && typeof value.base64Signature === 'string' && !('payloadType' in value)) {
    const inner = decodeBase64(value.base64Signature, 'legacy bundle base64Signature', 'BUNDLE_MALFORMED');
    const envelope = envelopeFromJson(parseJson(inner, 'legacy bundle envelope'));
    if (typeof value.cert === 'string' && value.cert !== '') {
      return { envelope, form: 'legacy-bundle', certificateKey: legacyBundleKey(value.cert, 'legacy bundle') };
    }
    return { envelope, form: 'legacy-bundle' };
  }
  if (isObject(value) && 'mediaType' in value && !('payloadType' in value)) {
    const bundle = dsseBundleFromJson(value);
    return { envelope: bundle.envelope, form: 'bundle', bundle };
  }
  return { envelope: envelopeFromJson(value), form: 'envelope' };
}

function safeBase64(text: string): Buffer | undefined {
  try {
    return decodeBase64(text, 'envelope');
  } catch {
    return undefined;
  }
}
