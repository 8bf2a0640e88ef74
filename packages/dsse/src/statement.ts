import { CosignkitError } from '@cosignkit/core';
import { isObject, parseJson } from './envelope.js';
import { quoted } from './quote.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
/** What cosign's `attest` and `attest-blob` (v2) still emit; verifiers accept both. */
export const STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';

export interface Subject {
  name?: string;
  /** Algorithm → lower-case hex, e.g. `{ sha256: "…" }`. */
  digest: Record<string, string>;
}

export interface Statement {
  _type: typeof STATEMENT_V1 | typeof STATEMENT_V01;
  subject: Subject[];
  predicateType: string;
  predicate?: unknown;
}

/**
 * A Statement in cosign's field order (`_type`, `predicateType`, `subject`, `predicate`), so the payload
 * bytes look like cosign's.
 */
export function buildStatement(input: {
  subjects: readonly Subject[];
  predicateType: string;
  predicate?: unknown;
  version?: 'v1' | 'v0.1';
}): Statement {
  if (input.subjects.length === 0) throw new CosignkitError('USAGE', 'a statement needs at least one subject');
  if (input.predicateType === '') throw new CosignkitError('USAGE', 'a statement needs a predicate type');
  const statement = {
    _type: input.version === 'v0.1' ? STATEMENT_V01 : STATEMENT_V1,
    predicateType: input.predicateType,
    subject: input.subjects.map((s) =>
      s.name === undefined ? { digest: { ...s.digest } } : { name: s.name, digest: { ...s.digest } },
    ),
  } as Statement;
  if (input.predicate !== undefined) statement.predicate = input.predicate;
  return statement;
}

/** Reads a Statement v1 or v0.1 from payload bytes. Anything else is ENVELOPE_MALFORMED. */
export function readStatement(payload: Uint8Array | string): Statement {
  const value = parseJson(payload, 'in-toto statement');
  if (!isObject(value)) throw malformed('in-toto statement is not a JSON object');
  if (value._type !== STATEMENT_V1 && value._type !== STATEMENT_V01) {
    throw malformed(`in-toto statement has unknown _type ${quoted(value._type)}`);
  }
  if (typeof value.predicateType !== 'string' || value.predicateType === '') {
    throw malformed('in-toto statement has no "predicateType"');
  }
  if (!Array.isArray(value.subject) || value.subject.length === 0) throw malformed('in-toto statement has no subjects');
  const subject = value.subject.map((s: unknown, i): Subject => {
    if (!isObject(s)) throw malformed(`in-toto subject ${i} is not a JSON object`);
    if (s.name !== undefined && typeof s.name !== 'string')
      throw malformed(`in-toto subject ${i} has a non-string name`);
    if (!isObject(s.digest) || Object.keys(s.digest).length === 0)
      throw malformed(`in-toto subject ${i} has no digest`);
    for (const [alg, hex] of Object.entries(s.digest)) {
      if (typeof hex !== 'string') throw malformed(`in-toto subject ${i} digest ${quoted(alg)} is not a string`);
    }
    const digest = s.digest as Record<string, string>;
    return s.name === undefined ? { digest } : { name: s.name, digest };
  });
  const statement: Statement = { _type: value._type, subject, predicateType: value.predicateType };
  if (value.predicate !== undefined) statement.predicate = value.predicate;
  return statement;
}

function malformed(message: string): CosignkitError {
  return new CosignkitError('ENVELOPE_MALFORMED', message);
}
