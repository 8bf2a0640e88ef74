import { open } from 'node:fs/promises';
import { fileError } from '@cosignkit/core';
import { canonicalEntry, GENESIS_HASH, hashCanonical, HASH_SUFFIX_LENGTH, type LogEntry } from './log-entry.js';
import { readHead, type LogHead } from './log-head.js';

export interface LogProblem {
  /** 1-based line number in the log file. */
  line: number;
  kind: 'malformed' | 'torn' | 'changed' | 'removed' | 'reordered' | 'inserted' | 'truncated';
  message: string;
}

export interface LogVerification {
  /** True when every line is a well-formed entry chained to the previous one and the head file agrees. */
  intact: boolean;
  entries: number;
  /** The last entry's seq and hash (publish it to anchor the log elsewhere). */
  head?: LogHead;
  /** False when there is no `<log>.head` to detect a cut-off tail. */
  headFile: boolean;
  problems: LogProblem[];
  /** Entries recording the envelope asked for (`envelope` option), with their line numbers. */
  found: (LogEntry & { line: number })[];
}

const MAX_PROBLEMS = 100;
const CHUNK = 1024 * 1024;

/**
 * Checks the whole chain in one streamed pass: each line's hash over its canonical content, `prev` equal to
 * the previous line's hash, `seq` counting up by one, a complete last line, and the head file. Finds the
 * entries of one envelope on the way (`envelope`: `sha256:<hex>`).
 */
export async function verifyLog(logPath: string, options: { envelope?: string } = {}): Promise<LogVerification> {
  const problems: LogProblem[] = [];
  const found: (LogEntry & { line: number })[] = [];
  const report = (p: LogProblem): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  let lineNo = 0;
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let last: LogHead | undefined;
  // Read before the scan: a writer appending meanwhile moves the head only after its line is on disk.
  const head = await readHead(logPath).catch((error: Error) => {
    report({ line: 0, kind: 'truncated', message: error.message });
    return undefined;
  });
  let headMatched = false;

  const check = (line: string): void => {
    lineNo++;
    const entry = parseLine(line);
    if (!entry) {
      report({ line: lineNo, kind: 'malformed', message: `line ${lineNo} is not a log entry` });
      return;
    }
    const canonical = canonicalEntry(entry);
    if (`${canonical.slice(0, -1)},"hash":"${entry.hash}"}` !== line) {
      report({ line: lineNo, kind: 'malformed', message: `line ${lineNo} is not in canonical form` });
    } else if (hashCanonical(canonical) !== entry.hash) {
      report({ line: lineNo, kind: 'changed', message: `line ${lineNo} was changed (its hash does not match its content)` });
    }
    if (entry.seq > expectedSeq) {
      report({ line: lineNo, kind: 'removed', message: `line ${lineNo}: ${entry.seq - expectedSeq} entr${entry.seq - expectedSeq === 1 ? 'y is' : 'ies are'} missing before it, removed or moved (seq ${entry.seq}, expected ${expectedSeq})` });
    } else if (entry.seq < expectedSeq) {
      report({ line: lineNo, kind: 'reordered', message: `line ${lineNo}: out of order or duplicated (seq ${entry.seq} after seq ${expectedSeq - 1})` });
    } else if (entry.prev !== prevHash) {
      report({ line: lineNo, kind: 'inserted', message: `line ${lineNo} does not chain to line ${lineNo - 1} (a line was inserted or replaced)` });
    }
    expectedSeq = entry.seq + 1;
    prevHash = entry.hash;
    last = { seq: entry.seq, hash: entry.hash };
    if (head && entry.seq === head.seq && entry.hash === head.hash) headMatched = true;
    if (options.envelope !== undefined && entry.envelope === options.envelope) found.push({ ...entry, line: lineNo });
  };

  let handle;
  try {
    handle = await open(logPath, 'r');
  } catch (error) {
    throw fileError(logPath, error);
  }
  let torn: string | undefined;
  try {
    const buffer = Buffer.alloc(CHUNK);
    let carry: Buffer | undefined;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      let data = buffer.subarray(0, bytesRead);
      if (carry) data = Buffer.concat([carry, data]);
      let start = 0;
      for (let nl = data.indexOf(0x0a, start); nl >= 0; nl = data.indexOf(0x0a, start)) {
        check(data.toString('utf8', start, nl));
        start = nl + 1;
      }
      carry = start < data.length ? Buffer.from(data.subarray(start)) : undefined;
    }
    if (carry) torn = carry.toString('utf8');
  } catch (error) {
    throw fileError(logPath, error);
  } finally {
    await handle.close();
  }
  if (torn !== undefined) {
    lineNo++;
    report({ line: lineNo, kind: 'torn', message: `line ${lineNo} is torn (an incomplete last line: an append that never finished, or a cut file)` });
  }
  if (head) {
    if (!last || head.seq > last.seq) {
      report({ line: lineNo + 1, kind: 'truncated', message: `entries after line ${lineNo} were removed (the head file records seq ${head.seq}, the log ends at ${last?.seq ?? 0})` });
    } else if (!headMatched) {
      report({ line: lineNo, kind: 'changed', message: `the entry with seq ${head.seq} does not match the head file` });
    }
  }
  const result: LogVerification = { intact: problems.length === 0, entries: torn === undefined ? lineNo : lineNo - 1, headFile: head !== undefined, problems, found };
  if (last) result.head = last;
  return result;
}

function parseLine(line: string): LogEntry | undefined {
  if (line.length <= HASH_SUFFIX_LENGTH) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const e = value as Partial<LogEntry>;
  if (typeof value !== 'object' || value === null || !Number.isSafeInteger(e.seq) || typeof e.time !== 'string' ||
      typeof e.envelope !== 'string' || !Array.isArray(e.subjects) || typeof e.prev !== 'string' || typeof e.hash !== 'string') {
    return undefined;
  }
  for (const s of e.subjects) {
    if (typeof s !== 'object' || s === null || typeof s.digest !== 'object' || s.digest === null) return undefined;
  }
  return e as LogEntry;
}
