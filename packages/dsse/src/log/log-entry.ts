import { createHash } from 'node:crypto';
import type { Subject } from '../statement.js';

/** `prev` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** One line of the append-only log. */
export interface LogEntry {
  /** 1 for the first line, then +1 per line. */
  seq: number;
  /** When the entry was appended (RFC 3339, UTC). */
  time: string;
  /** `sha256:<hex>` of the envelope's canonical serialization (see envelopeDigest). */
  envelope: string;
  subjects: Subject[];
  /**
   * Optional facts about the append (a service's audit record: request id, outcome, caller), covered by the
   * hash like every other field. Absent in entries written by `log-dsse`.
   */
  record?: Record<string, unknown>;
  /** `hash` of the previous line, or GENESIS_HASH. */
  prev: string;
  /** Hex SHA-256 of the canonical serialization of the fields above. */
  hash: string;
}

/** `,"hash":"<64 hex>"}` — every line ends so; its length lets the verifier split a line without parsing. */
export const HASH_SUFFIX_LENGTH = ',"hash":"'.length + 64 + '"}'.length;

/**
 * The canonical serialization the hash covers: compact JSON, fields in this order, subject digests sorted
 * by algorithm; `record` (when present) as given, between `subjects` and `prev`. A line is exactly this with `,"hash":"…"` before the closing brace.
 */
export function canonicalEntry(entry: Omit<LogEntry, 'hash'>): string {
  const subjects = entry.subjects.map((s) => {
    const digest = Object.fromEntries(
      Object.keys(s.digest)
        .sort()
        .map((k) => [k, s.digest[k]]),
    );
    return s.name === undefined ? { digest } : { name: s.name, digest };
  });
  return entry.record === undefined
    ? JSON.stringify({ seq: entry.seq, time: entry.time, envelope: entry.envelope, subjects, prev: entry.prev })
    : JSON.stringify({
        seq: entry.seq,
        time: entry.time,
        envelope: entry.envelope,
        subjects,
        record: entry.record,
        prev: entry.prev,
      });
}

export function hashCanonical(canonical: string): string {
  return createHash('sha256').update(canonical).digest('hex');
}

/** The full entry and its line (without the newline). */
export function makeEntry(fields: Omit<LogEntry, 'hash'>): { entry: LogEntry; line: string } {
  const canonical = canonicalEntry(fields);
  const hash = hashCanonical(canonical);
  return { entry: { ...fields, hash }, line: `${canonical.slice(0, -1)},"hash":"${hash}"}` };
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The seq, prev and hash of a line when it is a complete entry whose hash matches its content (the same
 * test verify-log applies: the hash covers the line as written without its hash field); undefined otherwise.
 */
export function checkEntryLine(line: string): { seq: number; prev: string; hash: string } | undefined {
  if (line.length <= HASH_SUFFIX_LENGTH || !line.endsWith('"}')) return undefined;
  let value: Partial<LogEntry>;
  try {
    value = JSON.parse(line) as Partial<LogEntry>;
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { seq, prev, hash } = value;
  if (
    !Number.isSafeInteger(seq) ||
    seq! < 1 ||
    typeof prev !== 'string' ||
    !HEX64.test(prev) ||
    typeof hash !== 'string' ||
    !HEX64.test(hash)
  )
    return undefined;
  // The leading seq and trailing hash are the ones a streaming reader sees (JSON.parse keeps a duplicate key's last).
  if (!line.startsWith(`{"seq":${seq},"time":"`) || !line.endsWith(`,"hash":"${hash}"}`)) return undefined;
  if (hashCanonical(`${line.slice(0, -HASH_SUFFIX_LENGTH)}}`) !== hash) return undefined;
  return { seq: seq!, prev, hash };
}
