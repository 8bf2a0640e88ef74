import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CosignkitError, fileError, silentLogger, type Logger } from '@cosignkit/core';
import type { Envelope } from '../envelope.js';
import { envelopeDigest } from '../envelope-digest.js';
import { IN_TOTO_PAYLOAD_TYPE, readStatement, type Subject } from '../statement.js';
import { canonicalEntry, GENESIS_HASH, hashCanonical, HASH_SUFFIX_LENGTH, makeEntry, type LogEntry } from './log-entry.js';
import { syncDirectory, writeHead } from './log-head.js';
import { withFileLock, type LockOptions } from './log-lock.js';

export interface AppendOptions extends LockOptions {
  now?: Date;
  logger?: Logger;
}

/** The subjects an envelope attests: those of its in-toto statement, none for other payload types. */
export function envelopeSubjects(envelope: Envelope): Subject[] {
  return envelope.payloadType === IN_TOTO_PAYLOAD_TYPE ? readStatement(envelope.payload).subject : [];
}

/**
 * Appends a record of an envelope to the log and returns it only once it is on disk (fsync of the file, and
 * of the directory when the file is new). Writers are serialized by a lock file. A torn last line — left by
 * a writer that crashed before its fsync, so never acknowledged — is cut off first.
 */
export async function appendToLog(logPath: string, envelope: Envelope, options: AppendOptions = {}): Promise<LogEntry> {
  const subjects = envelopeSubjects(envelope);
  const digest = `sha256:${envelopeDigest(envelope)}`;
  const [entry] = await appendEntries(logPath, [{ envelope: digest, subjects }], options);
  return entry!;
}

/** One entry to append: what `appendEntries` chains and numbers. */
export interface PendingEntry {
  /** `sha256:<hex>` of the envelope (see envelopeDigest), or `''` for a record about no envelope. */
  envelope: string;
  subjects: Subject[];
  record?: Record<string, unknown>;
}

/**
 * Appends several entries in one write and one fsync (group commit: a service batches the records of many
 * requests so durability does not cost an fsync each), under the same lock and torn-tail repair as
 * appendToLog. Resolves with the entries, in order, once they and the head are on disk.
 */
export async function appendEntries(logPath: string, pending: readonly PendingEntry[], options: AppendOptions = {}): Promise<LogEntry[]> {
  if (pending.length === 0) return [];
  const logger = options.logger ?? silentLogger;
  return withFileLock(logPath, async () => {
    let handle: FileHandle;
    let created = false;
    try {
      handle = await open(logPath, constants.O_RDWR | constants.O_APPEND);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(logPath, error);
      handle = await open(logPath, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o644).catch((e: unknown) => {
        throw fileError(logPath, e);
      });
      created = true;
    }
    try {
      const last = await lastEntry(handle, logPath, logger);
      const time = (options.now ?? new Date()).toISOString();
      let seq = last ? last.seq : 0;
      let prev = last ? last.hash : GENESIS_HASH;
      const entries: LogEntry[] = [];
      const lines: string[] = [];
      for (const p of pending) {
        const { entry, line } = makeEntry({
          seq: ++seq,
          time,
          envelope: p.envelope,
          subjects: p.subjects,
          ...(p.record === undefined ? {} : { record: p.record }),
          prev,
        });
        prev = entry.hash;
        entries.push(entry);
        lines.push(line);
      }
      const bytes = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
      const { bytesWritten } = await handle.write(bytes);
      if (bytesWritten !== bytes.length) throw new CosignkitError('IO', `${logPath}: short write`);
      await handle.sync();
      if (created) await syncDirectory(dirname(logPath));
      const tail = entries[entries.length - 1]!;
      await writeHead(logPath, { seq: tail.seq, hash: tail.hash });
      return entries;
    } catch (error) {
      throw CosignkitError.isInstance(error) ? error : fileError(logPath, error);
    } finally {
      await handle.close();
    }
  }, options);
}

/** The last complete entry (checked against its own hash), cutting off a torn tail. */
export async function lastEntry(handle: FileHandle, logPath: string, logger: Logger): Promise<{ seq: number; hash: string } | undefined> {
  let size = (await handle.stat()).size;
  if (size === 0) return undefined;
  let chunk = 64 * 1024;
  for (;;) {
    const start = Math.max(0, size - chunk);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    if (buffer[buffer.length - 1] !== 0x0a) {
      const cut = buffer.lastIndexOf(0x0a);
      if (cut < 0 && start > 0) {
        chunk *= 4;
        continue;
      }
      const keep = cut < 0 ? 0 : start + cut + 1;
      logger.warn('log: cutting off a torn last line (an append that never completed)', { log: logPath, bytes: size - keep });
      await handle.truncate(keep);
      await handle.sync();
      size = keep;
      if (size === 0) return undefined;
      continue;
    }
    const begin = buffer.lastIndexOf(0x0a, buffer.length - 2);
    if (begin < 0 && start > 0) {
      chunk *= 4;
      continue;
    }
    const line = buffer.subarray(begin + 1, buffer.length - 1).toString('utf8');
    return checkedTail(line, logPath);
  }
}

function checkedTail(line: string, logPath: string): { seq: number; hash: string } {
  try {
    const value = JSON.parse(line) as LogEntry;
    const canonical = canonicalEntry(value);
    if (line.length > HASH_SUFFIX_LENGTH && value.hash === hashCanonical(canonical) && Number.isSafeInteger(value.seq)) {
      return { seq: value.seq, hash: value.hash };
    }
  } catch {
    // reported below
  }
  throw new CosignkitError('VERIFICATION_FAILED', `${logPath}: the last entry is damaged; run verify-log before appending`);
}
