import { hash as oneShotHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { CosignkitError, fileError } from '@cosignkit/core';
import { GENESIS_HASH, HASH_SUFFIX_LENGTH, type LogEntry } from './log-entry.js';
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
const PREV_KEY = ',"prev":"';
const HASH_KEY = ',"hash":"';
/** `,"prev":"<64 hex>","hash":"<64 hex>"}` */
const TAIL_LENGTH = PREV_KEY.length + 64 + 1 + HASH_SUFFIX_LENGTH;
const FRAME_LENGTH = '{"seq":1,'.length + TAIL_LENGTH;
/**
 * 64 KiB a read: each chunk is decoded to a string, and a string under V8's large-object size (128 KiB) lives
 * in the young generation, whose pages are reused. A 1 MiB chunk made a fresh external string, then a fresh
 * flat copy of it, each on new pages, per chunk: 31,000 page faults over a 40 MiB log against 7,000, and
 * twice the time of the whole `verify-log` run (issue 19).
 */
const CHUNK = 64 * 1024;
/** Entries are a few hundred bytes (a record may add a little); a longer line is not one. */
const MAX_LINE = 1024 * 1024;

/**
 * Checks the whole chain in one streamed pass: each line's hash over the line as written without its hash
 * field (the canonical serialization, for lines cosignkit writes), `prev` equal to
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
  const logHead = await readHead(logPath).catch((error: Error) => {
    report({ line: 0, kind: 'truncated', message: error.message });
    return undefined;
  });
  let headMatched = false;

  const check = (line: string): void => {
    lineNo++;
    // No JSON.parse per line (it would double the time over a long log): every line cosignkit writes is
    // `{"seq":N,"time":…,"prev":"<hex>","hash":"<hex>"}`, and the hash covers all of it but the hash field,
    // so a change anywhere else shows as a hash mismatch. Only the fixed frame is checked by hand.
    const n = line.length;
    const seq = leadingSeq(line);
    if (
      seq === undefined ||
      n < FRAME_LENGTH ||
      !line.startsWith(PREV_KEY, n - TAIL_LENGTH) ||
      !line.startsWith(HASH_KEY, n - HASH_SUFFIX_LENGTH) ||
      !line.endsWith('"}')
    ) {
      report({ line: lineNo, kind: 'malformed', message: `line ${lineNo} is not a log entry` });
      return;
    }
    const prev = line.slice(n - TAIL_LENGTH + PREV_KEY.length, n - HASH_SUFFIX_LENGTH - 1);
    const hash = line.slice(n - 66, n - 2);
    if (sha256(`${line.slice(0, -HASH_SUFFIX_LENGTH)}}`) !== hash) {
      report({
        line: lineNo,
        kind: 'changed',
        message: `line ${lineNo} was changed (its hash does not match its content)`,
      });
    }
    if (seq > expectedSeq) {
      report({
        line: lineNo,
        kind: 'removed',
        message: `line ${lineNo}: ${seq - expectedSeq} entr${seq - expectedSeq === 1 ? 'y is' : 'ies are'} missing before it, removed or moved (seq ${seq}, expected ${expectedSeq})`,
      });
    } else if (seq < expectedSeq) {
      report({
        line: lineNo,
        kind: 'reordered',
        message: `line ${lineNo}: out of order or duplicated (seq ${seq} after seq ${expectedSeq - 1})`,
      });
    } else if (prev !== prevHash) {
      report({
        line: lineNo,
        kind: 'inserted',
        message:
          lineNo === 1
            ? 'line 1 does not start the chain (its prev is not the genesis hash: lines before it were removed, or it was replaced)'
            : `line ${lineNo} does not chain to line ${lineNo - 1} (a line was inserted or replaced)`,
      });
    }
    expectedSeq = seq + 1;
    prevHash = hash;
    last = { seq, hash };
    if (logHead && seq === logHead.seq && hash === logHead.hash) headMatched = true;
    if (options.envelope !== undefined && line.includes(`"envelope":"${options.envelope}"`)) {
      const entry = parseLine(line);
      if (entry && entry.envelope === options.envelope) found.push({ ...entry, line: lineNo });
    }
  };

  let handle;
  try {
    // Non-blocking open, then a check on the descriptor: a FIFO or /dev/zero is refused, not read forever.
    handle = await open(logPath, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    throw fileError(logPath, error);
  }
  let torn: string | undefined;
  try {
    if (!(await handle.stat()).isFile()) throw new CosignkitError('NOT_A_FILE', `${logPath} is not a regular file`);
    const buffer = Buffer.alloc(CHUNK);
    // A line longer than any entry is reported once and skipped up to its newline, never accumulated.
    let overlong = false;
    // A multi-byte character may straddle two chunks: the decoder holds its first bytes back.
    const decoder = new StringDecoder('utf8');
    let carry = '';
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const data = carry + decoder.write(buffer.subarray(0, bytesRead));
      let start = 0;
      for (let nl = data.indexOf('\n'); nl >= 0; nl = data.indexOf('\n', start)) {
        if (overlong) {
          overlong = false;
          lineNo++;
          report({
            line: lineNo,
            kind: 'malformed',
            message: `line ${lineNo} is longer than ${MAX_LINE} bytes: not an entry`,
          });
        } else {
          check(data.slice(start, nl));
        }
        start = nl + 1;
      }
      carry = data.slice(start);
      if (carry.length > MAX_LINE) {
        overlong = true;
        carry = '';
      }
    }
    carry += decoder.end();
    if (carry !== '' || overlong) torn = carry;
  } catch (error) {
    throw CosignkitError.isInstance(error) ? error : fileError(logPath, error);
  } finally {
    await handle.close();
  }
  if (torn !== undefined) {
    lineNo++;
    report({
      line: lineNo,
      kind: 'torn',
      message: `line ${lineNo} is torn (an incomplete last line: an append that never finished, or a cut file)`,
    });
  }
  if (logHead) {
    if (!last || logHead.seq > last.seq) {
      report({
        line: lineNo + 1,
        kind: 'truncated',
        message: `entries after line ${lineNo} were removed (the head file records seq ${logHead.seq}, the log ends at ${last?.seq ?? 0})`,
      });
    } else if (!headMatched) {
      report({
        line: lineNo,
        kind: 'changed',
        message: `the entry with seq ${logHead.seq} does not match the head file`,
      });
    }
  }
  const result: LogVerification = {
    intact: problems.length === 0,
    entries: torn === undefined ? lineNo : lineNo - 1,
    headFile: logHead !== undefined,
    problems,
    found,
  };
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
  if (
    typeof value !== 'object' ||
    value === null ||
    !Number.isSafeInteger(e.seq) ||
    typeof e.time !== 'string' ||
    typeof e.envelope !== 'string' ||
    !Array.isArray(e.subjects) ||
    typeof e.prev !== 'string' ||
    typeof e.hash !== 'string'
  ) {
    return undefined;
  }
  for (const s of e.subjects) {
    if (typeof s !== 'object' || s === null || typeof s.digest !== 'object' || s.digest === null) return undefined;
  }
  return e as LogEntry;
}

function sha256(text: string): string {
  return oneShotHash('sha256', text, 'hex');
}

/** The seq at the start of a line (`{"seq":N,"time":`), or undefined. */
function leadingSeq(line: string): number | undefined {
  if (!line.startsWith('{"seq":')) return undefined;
  let i = 7;
  let value = 0;
  for (; i < line.length && i < 23; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    if (i > 7 && value === 0) return undefined; // a leading zero
    value = value * 10 + c;
  }
  return i > 7 && line.startsWith(',"time":"', i) ? value : undefined;
}
