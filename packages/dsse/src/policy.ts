import { CosignkitError } from '@cosignkit/core';
import type { Envelope } from './envelope.js';
import { resolveJsonPointer } from './json-pointer.js';
import { resolvePredicateType } from './predicate-types.js';
import { quoted } from './quote.js';
import { parseRfc3339 } from './rfc3339.js';
import { IN_TOTO_PAYLOAD_TYPE, readStatement, type Statement } from './statement.js';
import { gitBindingProblems } from './git-subject.js';
import { subjectHasDigest } from './subjects.js';
import type { EnvelopeVerification } from './verify.js';

/** What a verifier demands beyond "every signature verifies with a trusted key". */
export interface DssePolicy {
  /** A valid signature by the key with this id. */
  requireKeyid?: string;
  /** A valid signature by each of these key ids. */
  requireSigners?: readonly string[];
  /** A subject with this name, and this digest when given (`sha256:HEX`). */
  requireSubject?: { name: string; algorithm?: string; digest?: string };
  /** The predicate type (a URI or a cosign `--type` name). */
  requirePredicateType?: string;
  /** The statement is at most this old (milliseconds), by the timestamp at `timeField` in the predicate. */
  maxAgeMs?: number;
  /** JSON pointer into the predicate; default `/issued_at`. */
  timeField?: string;
  /** A subject `git+https://github.com/<repo>@<sha>` of this `owner/repo` (and predicate fields agree). */
  requireRepo?: string;
  /** A subject of that form at this commit (with requireRepo: the same subject). */
  requireCommit?: string;
  /** The envelope's payloadType must be this (ENVELOPE_MALFORMED otherwise). */
  payloadType?: string;
  now?: Date;
}

export interface UnmetRule {
  rule:
    | 'signatures'
    | 'require-keyid'
    | 'require-signers'
    | 'require-subject'
    | 'require-predicate-type'
    | 'require-repo'
    | 'require-commit'
    | 'max-age';
  message: string;
}

/** Tolerated clock skew for timestamps slightly in the future. */
const FUTURE_SKEW_MS = 5 * 60_000;

/** Parses `NAME`, `NAME@sha256:HEX` (or `@sha512:`) as --require-subject takes it. */
export function parseSubjectRequirement(text: string): { name: string; algorithm?: string; digest?: string } {
  const m = /^(.*)@(sha256|sha384|sha512):([0-9a-fA-F]+)$/.exec(text);
  if (!m) {
    if (text === '') throw new CosignkitError('USAGE', 'empty --require-subject');
    return { name: text };
  }
  return { name: m[1]!, algorithm: m[2]!, digest: m[3]!.toLowerCase() };
}

/** True when the policy needs the payload to be an in-toto statement. */
export function needsStatement(policy: DssePolicy): boolean {
  return (
    policy.requireSubject !== undefined ||
    policy.requirePredicateType !== undefined ||
    policy.maxAgeMs !== undefined ||
    policy.requireRepo !== undefined ||
    policy.requireCommit !== undefined
  );
}

/**
 * Evaluates a policy against a verification. Throws ENVELOPE_MALFORMED when the payload must be (and is not)
 * an in-toto statement, or when the timestamp `maxAgeMs` reads is there but is not an RFC 3339 time with an
 * offset or Unix seconds; returns the unmet rules otherwise (empty: the policy holds).
 */
export function evaluatePolicy(
  envelope: Envelope,
  verification: EnvelopeVerification,
  policy: DssePolicy,
): { unmet: UnmetRule[]; statement?: Statement } {
  if (policy.payloadType !== undefined && envelope.payloadType !== policy.payloadType) {
    throw new CosignkitError(
      'ENVELOPE_MALFORMED',
      `envelope payloadType is ${quoted(envelope.payloadType)}, expected ${quoted(policy.payloadType)}`,
    );
  }
  let statement: Statement | undefined;
  if (needsStatement(policy)) {
    if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
      throw new CosignkitError(
        'ENVELOPE_MALFORMED',
        `envelope payloadType is ${quoted(envelope.payloadType)}, not an in-toto statement (${IN_TOTO_PAYLOAD_TYPE})`,
      );
    }
    statement = readStatement(envelope.payload);
  }
  const unmet: UnmetRule[] = [];
  for (const s of verification.signatures) {
    if (!s.valid) {
      const who = s.keyid ? `keyid ${quoted(s.keyid)}` : 'no keyid';
      unmet.push({
        rule: 'signatures',
        message:
          s.problem === 'unknown-keyid'
            ? `signature ${s.index} (${who}): no trusted key has this keyid`
            : `signature ${s.index} (${who}): does not verify with any trusted key`,
      });
    }
  }
  if (policy.requireKeyid !== undefined && !verification.validSigners.includes(policy.requireKeyid)) {
    unmet.push({ rule: 'require-keyid', message: `no valid signature by keyid ${quoted(policy.requireKeyid)}` });
  }
  // Signers are keys, not names: a key listed under two ids in a key map is one signer, so two required ids
  // met by the same key (its fingerprint) count once, and the second is unmet.
  const keyOf = new Map(
    verification.signatures.filter((s) => s.valid && s.signer !== undefined).map((s) => [s.signer!, s.fingerprint]),
  );
  const claimedBy = new Map<string, string>();
  for (const id of policy.requireSigners ?? []) {
    if (!verification.validSigners.includes(id)) {
      unmet.push({ rule: 'require-signers', message: `no valid signature by required signer ${quoted(id)}` });
      continue;
    }
    const fingerprint = keyOf.get(id);
    const other = fingerprint === undefined ? undefined : claimedBy.get(fingerprint);
    if (other !== undefined && other !== id) {
      unmet.push({
        rule: 'require-signers',
        message: `required signers ${quoted(other)} and ${quoted(id)} are the same key: it counts as one signer`,
      });
    } else if (fingerprint !== undefined) {
      claimedBy.set(fingerprint, id);
    }
  }
  if (statement && policy.requireSubject) {
    const want = policy.requireSubject;
    const named = statement.subject.filter((s) => s.name === want.name);
    if (named.length === 0) {
      unmet.push({ rule: 'require-subject', message: `no subject named ${quoted(want.name)}` });
    } else if (want.digest && !named.some((s) => subjectHasDigest(s, want.algorithm ?? 'sha256', want.digest!))) {
      unmet.push({
        rule: 'require-subject',
        message: `subject ${quoted(want.name)} does not have digest ${want.algorithm}:${want.digest}`,
      });
    }
  }
  if (statement && policy.requirePredicateType !== undefined) {
    const want = resolvePredicateType(policy.requirePredicateType);
    if (statement.predicateType !== want) {
      unmet.push({
        rule: 'require-predicate-type',
        message: `predicate type is ${quoted(statement.predicateType)}, not ${quoted(want)}`,
      });
    }
  }
  if (statement && (policy.requireRepo !== undefined || policy.requireCommit !== undefined))
    unmet.push(...gitBindingProblems(statement, policy.requireRepo, policy.requireCommit));
  if (statement && policy.maxAgeMs !== undefined) {
    const problem = ageProblem(
      statement.predicate,
      policy.timeField ?? '/issued_at',
      policy.maxAgeMs,
      policy.now ?? new Date(),
    );
    if (problem) unmet.push({ rule: 'max-age', message: problem });
  }
  return statement ? { unmet, statement } : { unmet };
}

function ageProblem(predicate: unknown, pointer: string, maxAgeMs: number, now: Date): string | undefined {
  const value = resolveJsonPointer(predicate, pointer);
  if (value === undefined) return `the predicate has no timestamp at ${pointer}`;
  const millis = typeof value === 'number' ? value * 1000 : typeof value === 'string' ? parseRfc3339(value) : undefined;
  const time = millis === undefined ? undefined : new Date(millis);
  if (!time || Number.isNaN(time.getTime())) {
    // Malformed input, not an unmet rule: a time without an offset has no one meaning (it would depend on the
    // verifier's time zone), and guessing would let a stale statement pass on some machines.
    const shown = typeof value === 'string' && /^[0-9A-Za-z:.+-]{1,40}$/.test(value) ? ` ("${value}")` : '';
    throw new CosignkitError(
      'ENVELOPE_MALFORMED',
      `the predicate's ${pointer}${shown} is not an RFC 3339 time with an offset (Z or ±hh:mm) or Unix seconds`,
    );
  }
  const age = now.getTime() - time.getTime();
  if (age < -FUTURE_SKEW_MS) return `the predicate's ${pointer} (${time.toISOString()}) is in the future`;
  if (age > maxAgeMs)
    return `the statement is ${formatAge(age)} old (${pointer} ${time.toISOString()}), more than the allowed ${formatAge(maxAgeMs)}`;
  return undefined;
}

function formatAge(ms: number): string {
  if (ms >= 86_400_000) return `${(ms / 86_400_000).toFixed(1).replace(/\.0$/, '')}d`;
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1).replace(/\.0$/, '')}h`;
  if (ms >= 60_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.round(ms / 1000)}s`;
}
