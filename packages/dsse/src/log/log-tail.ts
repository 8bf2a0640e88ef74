import type { FileHandle } from 'node:fs/promises';
import { CosignkitError } from '@cosignkit/core';
import { checkEntryLine, GENESIS_HASH } from './log-entry.js';
import type { LogHead } from './log-head.js';

/**
 * Entries come from envelopes, which are refused beyond 256 MiB, so no line of a log is longer; a file whose
 * last lines are longer is not a log, and is refused rather than read whole.
 */
const MAX_TAIL_BYTES = 256 * 1024 * 1024;
const FIRST_CHUNK = 64 * 1024;

/** What an append must do before writing its line, decided before anything is written. */
export type TailPlan =
  /** The file ends with a complete, chained entry (or is empty): append after it. */
  | { action: 'append'; last?: LogHead }
  /** The last entry is complete and chains but lost its newline: restore the newline, never cut the entry. */
  | { action: 'restore-newline'; last: LogHead }
  /** A torn fragment of the next entry, never acknowledged: cut the file back to `keep` bytes. */
  | { action: 'cut'; keep: number; last?: LogHead };

function refuse(logPath: string, problem: string, message: string): CosignkitError {
  return new CosignkitError('VERIFICATION_FAILED', `${logPath}: ${message}; the file was not changed (run verify-log)`, {
    details: { problem },
  });
}

/**
 * Checks that the file is a log before an append may touch it — its first line starts the chain, its last
 * complete line is an entry, the head file agrees with the end — and decides what to do with an unterminated
 * last line. Only a fragment that is a prefix of the next entry, does not parse, and is not vouched for by
 * the head is ever cut; anything else is refused with VERIFICATION_FAILED and the file is left as it is.
 */
export async function planAppend(handle: FileHandle, logPath: string, head: LogHead | undefined): Promise<TailPlan> {
  const size = (await handle.stat()).size;
  if (size === 0) {
    if (head) throw refuse(logPath, 'truncated', `the log is empty but its head file records seq ${head.seq}: entries were removed`);
    return { action: 'append' };
  }
  const tail = await readTail(handle, logPath, size);
  let last: (LogHead & { prev: string }) | undefined;
  if (tail.line !== undefined) {
    last = checkEntryLine(tail.line.text);
    if (!last) throw refuse(logPath, 'malformed', 'the last line is not a log entry (a damaged log, or not a log at all)');
    const first = tail.line.start === 0 ? last : checkEntryLine(await readFirstLine(handle, logPath, size));
    if (!first || first.seq !== 1 || first.prev !== GENESIS_HASH) {
      throw refuse(logPath, 'malformed', 'the first line does not start a log (not a log entry with seq 1 and the genesis hash)');
    }
  }

  let plan: TailPlan = last ? { action: 'append', last: { seq: last.seq, hash: last.hash } } : { action: 'append' };
  if (tail.fragment.length > 0) {
    const text = tail.fragment.toString('utf8');
    const whole = checkEntryLine(text);
    const nextSeq = (last?.seq ?? 0) + 1;
    if (whole && whole.seq === nextSeq && whole.prev === (last?.hash ?? GENESIS_HASH)) {
      // A complete entry missing only its newline: it may be one the head vouches for. Keep it.
      last = whole;
      plan = { action: 'restore-newline', last: { seq: whole.seq, hash: whole.hash } };
    } else if (!whole && isTornPrefix(tail.fragment, nextSeq)) {
      plan = last ? { action: 'cut', keep: size - tail.fragment.length, last: { seq: last.seq, hash: last.hash } }
        : { action: 'cut', keep: 0 };
    } else {
      throw refuse(logPath, 'malformed', 'the last line is unterminated and is not a torn append of the next entry (not a log, or a damaged one)');
    }
  }

  if (head) {
    const end = last?.seq ?? 0;
    if (head.seq > end) {
      throw refuse(logPath, 'truncated', `the log ends at seq ${end} but its head file records seq ${head.seq}: acknowledged entries are missing`);
    }
    if ((head.seq === end && head.hash !== last!.hash) || (head.seq === end - 1 && head.hash !== last!.prev)) {
      throw refuse(logPath, 'changed', `the entry with seq ${head.seq} does not match the head file`);
    }
    // A head further behind (several appends whose head write failed) is checked by verify-log, not here.
  }
  return plan;
}

/**
 * True when `fragment` is what a writer that died mid-append leaves: a prefix of a line starting
 * `{"seq":<next>,"time":"`, possibly followed by the zero bytes some file systems show after a crash.
 */
function isTornPrefix(fragment: Buffer, nextSeq: number): boolean {
  let end = fragment.length;
  while (end > 0 && fragment[end - 1] === 0) end--;
  const head = Buffer.from(`{"seq":${nextSeq},"time":"`, 'utf8');
  const body = fragment.subarray(0, end);
  const n = Math.min(body.length, head.length);
  return body.subarray(0, n).equals(head.subarray(0, n));
}

/** The last newline-terminated line (without its newline) and the bytes after it. */
async function readTail(handle: FileHandle, logPath: string, size: number): Promise<{ line?: { text: string; start: number }; fragment: Buffer }> {
  for (let chunk = FIRST_CHUNK; ; chunk *= 4) {
    const start = Math.max(0, size - Math.min(chunk, MAX_TAIL_BYTES));
    const buffer = Buffer.alloc(size - start);
    await readFully(handle, buffer, start);
    const lastNl = buffer.lastIndexOf(0x0a);
    const previousNl = lastNl > 0 ? buffer.lastIndexOf(0x0a, lastNl - 1) : -1;
    if (start > 0 && previousNl < 0) {
      if (chunk >= MAX_TAIL_BYTES) throw refuse(logPath, 'malformed', 'its last line is longer than any log entry');
      continue;
    }
    const fragment = buffer.subarray(lastNl + 1);
    if (lastNl < 0) return { fragment };
    return { line: { text: buffer.subarray(previousNl + 1, lastNl).toString('utf8'), start: start + previousNl + 1 }, fragment };
  }
}

async function readFirstLine(handle: FileHandle, logPath: string, size: number): Promise<string> {
  for (let chunk = FIRST_CHUNK; ; chunk *= 4) {
    const buffer = Buffer.alloc(Math.min(chunk, MAX_TAIL_BYTES, size));
    await readFully(handle, buffer, 0);
    const nl = buffer.indexOf(0x0a);
    if (nl >= 0) return buffer.subarray(0, nl).toString('utf8');
    if (buffer.length >= MAX_TAIL_BYTES) throw refuse(logPath, 'malformed', 'its first line is longer than any log entry');
    if (buffer.length === size) throw new CosignkitError('IO', `${logPath} changed while it was read`);
  }
}

async function readFully(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await handle.read(buffer, done, buffer.length - done, position + done);
    if (bytesRead === 0) throw new CosignkitError('IO', 'the log shrank while it was read');
    done += bytesRead;
  }
}
