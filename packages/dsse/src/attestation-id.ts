import { createHash } from 'node:crypto';
import type { Envelope } from './envelope.js';
import { resolveJsonPointer } from './json-pointer.js';
import { IN_TOTO_PAYLOAD_TYPE } from './statement.js';

/**
 * Seed 003's attestation identity: `predicate.signature.signed_payload_hash` is `sha256:<hex>` and the id is
 * that hex, 64 lower-case characters. An envelope without that field (any statement not made by ReleaseGate)
 * is identified by the SHA-256 of its decoded payload instead, and `source` says which was used, so an id is
 * never presented as ReleaseGate's when it is not.
 */
export interface AttestationId {
  id: string;
  source: 'signed_payload_hash' | 'payload';
}

const SIGNED_PAYLOAD_HASH = /^sha256:([0-9a-fA-F]{64})$/;

export function attestationId(envelope: Envelope): AttestationId {
  if (envelope.payloadType === IN_TOTO_PAYLOAD_TYPE) {
    let statement: unknown;
    try {
      statement = JSON.parse(Buffer.from(envelope.payload).toString('utf8'));
    } catch {
      statement = undefined;
    }
    const hash = resolveJsonPointer(statement, '/predicate/signature/signed_payload_hash');
    const m = typeof hash === 'string' ? SIGNED_PAYLOAD_HASH.exec(hash) : null;
    if (m) return { id: m[1]!.toLowerCase(), source: 'signed_payload_hash' };
  }
  return { id: createHash('sha256').update(envelope.payload).digest('hex'), source: 'payload' };
}
