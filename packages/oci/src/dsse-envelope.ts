import type { KeyObject } from 'node:crypto';
import type { KeyManager } from '@cosignkit/core';
import { CosignkitError } from '@cosignkit/core';
import { pae } from '@cosignkit/dsse';
import { signPayload, verifyPayload } from '@cosignkit/core';

/**
 * The few DSSE pieces the registry layouts need, on core's PAE and payload signatures (which
 * @cosignkit/dsse builds on too): one signature with keyid "", as cosign writes, and its check.
 */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface DsseEnvelope {
  payloadType: string;
  /** Base64 of the payload. */
  payload: string;
  signatures: { keyid?: string; sig: string }[];
}

/** One signature with keyid "" as cosign writes it (verifiers then try their key). */
export async function signDsse(
  manager: KeyManager,
  keyId: string,
  payloadType: string,
  payload: Buffer,
  signal?: AbortSignal,
): Promise<DsseEnvelope> {
  const sig = await signPayload(manager, keyId, pae(payloadType, payload), signal);
  return { payloadType, payload: payload.toString('base64'), signatures: [{ keyid: '', sig: sig.toString('base64') }] };
}

/** The first key that verifies any signature of the envelope, or undefined. */
export function verifyDsse(envelope: DsseEnvelope, keys: readonly KeyObject[]): KeyObject | undefined {
  const message = pae(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
  for (const s of envelope.signatures) {
    const sig = Buffer.from(s.sig, 'base64');
    const key = keys.find((k) => verifyPayload(k, message, sig));
    if (key) return key;
  }
  return undefined;
}

export function parseDsse(value: unknown, where: string): DsseEnvelope {
  const e = value as Partial<DsseEnvelope> | null;
  if (
    !e ||
    typeof e.payloadType !== 'string' ||
    typeof e.payload !== 'string' ||
    !Array.isArray(e.signatures) ||
    !e.signatures.every((s) => s && typeof s.sig === 'string')
  ) {
    throw new CosignkitError('ENVELOPE_MALFORMED', `${where} is not a DSSE envelope`);
  }
  return { payloadType: e.payloadType, payload: e.payload, signatures: e.signatures };
}

export interface StatementFacts {
  predicateType: string;
  subjects: { name?: string; digest: Record<string, string> }[];
  /** A signature statement's `predicate.annotations` (the bundle layout's `-a`), when present. */
  annotations?: Record<string, string>;
}

/** The parts of an in-toto statement (v0.1 or v1) a verifier checks. */
export function readStatementFacts(envelope: DsseEnvelope, where: string): StatementFacts {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new CosignkitError(
      'ENVELOPE_MALFORMED',
      `${where}: payloadType is ${envelope.payloadType}, not an in-toto statement`,
    );
  }
  let s: { _type?: unknown; predicateType?: unknown; subject?: unknown; predicate?: unknown };
  try {
    s = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
  } catch (error) {
    throw new CosignkitError('ENVELOPE_MALFORMED', `${where}: the statement is not JSON`, { cause: error });
  }
  if (typeof s?.predicateType !== 'string' || !Array.isArray(s.subject)) {
    throw new CosignkitError('ENVELOPE_MALFORMED', `${where}: not an in-toto statement`);
  }
  const annotations = stringMap((s.predicate as { annotations?: unknown } | null | undefined)?.annotations);
  return {
    predicateType: s.predicateType,
    subjects: s.subject as StatementFacts['subjects'],
    ...(annotations ? { annotations } : {}),
  };
}

/** A signature statement's `predicate.annotations` (cosign's `-a` in the bundle layout), strings only. */
function stringMap(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}
