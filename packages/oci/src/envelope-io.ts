import type { KeyObject } from 'node:crypto';
import { CosignkitError, type KeyManager } from '@cosignkit/core';
import {
  IN_TOTO_PAYLOAD_TYPE,
  parseDsseBundle,
  parseEnvelope,
  readStatement,
  serializeDsseBundle,
  signEnvelope,
  trustedKey,
  verifyEnvelope,
  type Envelope,
  type Subject,
} from '@cosignkit/dsse';

/**
 * DSSE envelopes as the registry layouts hold them, on @cosignkit/dsse's one envelope model: signed as cosign
 * signs them, read from a layer or a bundle with the place they came from in every error.
 */

/**
 * One signature with keyid "" (verifiers try their key rather than match a hint) and ECDSA over SHA-256 whatever
 * the curve, which is what cosign writes and what `cosign verify-attestation` checks a P-384 key with.
 */
export function signCosignEnvelope(
  manager: KeyManager,
  keyId: string,
  statement: Uint8Array,
  signal?: AbortSignal,
): Promise<Envelope> {
  return signEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, [{ manager, keyId, keyid: '', hash: 'sha256' }], {
    ...(signal ? { signal } : {}),
  });
}

/** The v0.3 bundle a referrer carries: cosign's field order, `publicKey.hint`, signatures without keyid. */
export function dsseBundleBytes(envelope: Envelope, publicKey: KeyObject): Buffer {
  const unhinted = { ...envelope, signatures: envelope.signatures.map((s) => ({ sig: s.sig })) };
  return Buffer.from(serializeDsseBundle(unhinted, publicKey));
}

/** The envelope of a `.att` layer (the envelope JSON itself). */
export function envelopeOfLayer(bytes: Uint8Array, where: string): Envelope {
  return located(() => parseEnvelope(bytes), where);
}

/** The envelope inside a Sigstore bundle; bundles of other content are BUNDLE_MALFORMED. */
export function envelopeOfBundle(bytes: Uint8Array, where: string): Envelope {
  return located(() => parseDsseBundle(bytes).envelope, where);
}

/** The first key that verifies any signature of the envelope (whatever its keyid, as cosign), or undefined. */
export function verifyingKey(envelope: Envelope, keys: readonly KeyObject[]): KeyObject | undefined {
  const trusted = keys.map((key, i) => trustedKey(key, String(i), true));
  const valid = verifyEnvelope(envelope, trusted).signatures.find((s) => s.valid);
  return valid ? keys[Number(valid.signer)] : undefined;
}

export interface StatementFacts {
  predicateType: string;
  subjects: Subject[];
  /** A signature statement's `predicate.annotations` (the bundle layout's `-a`), when present. */
  annotations?: Record<string, string>;
}

/** The parts of an in-toto statement (v0.1 or v1) a verifier checks. */
export function readStatementFacts(envelope: Envelope, where: string): StatementFacts {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new CosignkitError(
      'ENVELOPE_MALFORMED',
      `${where}: payloadType is ${envelope.payloadType}, not an in-toto statement`,
    );
  }
  const statement = located(() => readStatement(envelope.payload), where);
  const annotations = stringMap((statement.predicate as { annotations?: unknown } | null | undefined)?.annotations);
  return {
    predicateType: statement.predicateType,
    subjects: statement.subject,
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

/** Runs a parser and names the layer or referrer in its one-line error. */
function located<T>(parse: () => T, where: string): T {
  try {
    return parse();
  } catch (error) {
    if (!CosignkitError.isInstance(error)) throw error;
    throw new CosignkitError(error.code, `${where}: ${error.message}`, { cause: error });
  }
}
