import { CosignkitError, escapeForTerminal } from '@cosignkit/core';
import { decodeBase64, encodeBase64 } from './base64.js';

export interface EnvelopeSignature {
  /** A hint naming the key; absent or empty means "try every trusted key". */
  keyid?: string;
  /** The raw signature bytes (decoded from base64). */
  sig: Uint8Array;
}

/** More signers than any real policy names; an envelope with more is refused unread. */
export const MAX_ENVELOPE_SIGNATURES = 256;

/** A parsed DSSE envelope with its payload and signatures already decoded. */
export interface Envelope {
  payloadType: string;
  payload: Uint8Array;
  signatures: EnvelopeSignature[];
}

/** The JSON form, as written on disk: payload and signatures in base64. */
export interface EnvelopeJson {
  payloadType: string;
  payload: string;
  signatures: { keyid?: string; sig: string }[];
}

/** Parses envelope JSON text. Every malformation is ENVELOPE_MALFORMED with a one-line message. */
export function parseEnvelope(text: string | Uint8Array): Envelope {
  return envelopeFromJson(parseJson(text, 'envelope'));
}

export function parseJson(text: string | Uint8Array, what: string): unknown {
  const source = typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
  if (source.trim() === '') throw new CosignkitError('ENVELOPE_MALFORMED', `${what} is empty`);
  try {
    return JSON.parse(source);
  } catch (error) {
    throw new CosignkitError(
      'ENVELOPE_MALFORMED',
      `${what} is not valid JSON (${escapeForTerminal((error as Error).message)})`,
      {
        cause: error,
      },
    );
  }
}

/** Checks the shape of an already-parsed envelope object and decodes it. */
export function envelopeFromJson(value: unknown): Envelope {
  if (!isObject(value)) throw malformed('envelope is not a JSON object');
  const { payloadType, payload, signatures } = value;
  if (typeof payloadType !== 'string') throw malformed('envelope has no string "payloadType"');
  if (typeof payload !== 'string') throw malformed('envelope has no string "payload"');
  if (!Array.isArray(signatures)) throw malformed('envelope has no "signatures" array');
  if (signatures.length === 0) throw malformed('envelope has no signatures');
  // Checked before any signature is decoded: a hostile envelope with a million entries costs nothing.
  if (signatures.length > MAX_ENVELOPE_SIGNATURES) {
    throw malformed(`envelope has ${signatures.length} signatures; at most ${MAX_ENVELOPE_SIGNATURES} are read`);
  }
  return {
    payloadType,
    payload: decodeBase64(payload, 'envelope payload'),
    signatures: signatures.map((s: unknown, i) => {
      if (!isObject(s)) throw malformed(`envelope signature ${i} is not a JSON object`);
      if (typeof s.sig !== 'string' || s.sig === '') throw malformed(`envelope signature ${i} has no "sig"`);
      if (s.keyid !== undefined && s.keyid !== null && typeof s.keyid !== 'string') {
        throw malformed(`envelope signature ${i} has a non-string "keyid"`);
      }
      const sig = decodeBase64(s.sig, `envelope signature ${i}`);
      if (sig.length === 0) throw malformed(`envelope signature ${i} is empty`);
      return typeof s.keyid === 'string' ? { keyid: s.keyid, sig } : { sig };
    }),
  };
}

/** The JSON form with standard base64; `keyid` is written when present (cosign writes `""`). */
export function envelopeToJson(envelope: Envelope): EnvelopeJson {
  return {
    payloadType: envelope.payloadType,
    payload: encodeBase64(envelope.payload),
    signatures: envelope.signatures.map((s) =>
      s.keyid === undefined ? { sig: encodeBase64(s.sig) } : { keyid: s.keyid, sig: encodeBase64(s.sig) },
    ),
  };
}

/** Compact JSON in cosign's field order (payloadType, payload, signatures), without a trailing newline. */
export function serializeEnvelope(envelope: Envelope): string {
  return JSON.stringify(envelopeToJson(envelope));
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(message: string): CosignkitError {
  return new CosignkitError('ENVELOPE_MALFORMED', message);
}
