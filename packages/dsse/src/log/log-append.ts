import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CosignkitError, fileError, silentLogger, type Logger } from '@cosignkit/core';
import type { Envelope } from '../envelope.js';
import { envelopeDigest } from '../envelope-digest.js';
import { IN_TOTO_PAYLOAD_TYPE, readStatement, type Subject } from '../statement.js';
import { GENESIS_HASH, makeEntry, type LogEntry } from './log-entry.js';
import { readHead, syncDirectory, writeHead, type LogHead } from './log-head.js';
import { planAppend } from './log-tail.js';
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
 * of the directory when the file is new). Writers are serialized by a lock file. Nothing is written until the
 * file is known to be a log (see planAppend): a file that is not one, or whose end disagrees with its head
 * file, is refused with VERIFICATION_FAILED and left byte for byte as it was. A complete last entry that only
 * lost its newline gets it back; only a torn fragment of an append that never completed (so was never
 * acknowledged, and is not in the head) is cut off.
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
 * requests so durability does not cost an fsync each), with the same lock and checks as appendToLog.
 * Resolves with the entries, in order, once they and the head are on disk.
 */
export async function appendEntries(
  logPath: string,
  pending: readonly PendingEntry[],
  options: AppendOptions = {},
): Promise<LogEntry[]> {
  if (pending.length === 0) return [];
  const logger = options.logger ?? silentLogger;
  return withFileLock(
    logPath,
    async () => {
      const { handle, created, last } = await openForAppend(logPath, logger);
      try {
        const { entries, bytes } = chainEntries(pending, last, (options.now ?? new Date()).toISOString());
        await writeAll(handle, bytes, logPath);
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
    },
    options,
  );
}

/**
 * Opens a log for appending (creating it when neither it nor its head exists), checks it is a log and repairs
 * its end as planAppend decides; returns its last entry. The caller holds the lock. `dsync`: every write on
 * the handle returns only once it is on disk (O_DSYNC: write and fdatasync in one call).
 */
export async function openForAppend(
  logPath: string,
  logger: Logger,
  options: { dsync?: boolean } = {},
): Promise<{ handle: FileHandle; created: boolean; last: LogHead | undefined }> {
  const head = await readHead(logPath);
  let handle: FileHandle;
  let created = false;
  // (Windows has no O_DSYNC: LogWriter then syncs after each write.)
  const sync = options.dsync ? (constants.O_DSYNC ?? 0) : 0;
  try {
    handle = await open(logPath, constants.O_RDWR | constants.O_APPEND | sync);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(logPath, error);
    if (head) {
      throw new CosignkitError(
        'VERIFICATION_FAILED',
        `${logPath} does not exist but its head file records seq ${head.seq}: the log was removed (run verify-log)`,
        {
          details: { problem: 'truncated' },
        },
      );
    }
    handle = await open(
      logPath,
      constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | sync,
      0o644,
    ).catch((e: unknown) => {
      throw fileError(logPath, e);
    });
    created = true;
  }
  try {
    if (!(await handle.stat()).isFile()) throw new CosignkitError('NOT_A_FILE', `${logPath} is not a regular file`);
    const plan = await planAppend(handle, logPath, head);
    if (plan.action === 'restore-newline') {
      logger.warn('log: restoring the newline of a complete last entry', { log: logPath, seq: plan.last.seq });
      await writeAll(handle, Buffer.from('\n'), logPath);
      await handle.sync();
    } else if (plan.action === 'cut') {
      logger.warn('log: cutting off a torn last line (an append that never completed)', {
        log: logPath,
        keep: plan.keep,
      });
      await handle.truncate(plan.keep);
      await handle.sync();
    }
    return { handle, created, last: plan.last };
  } catch (error) {
    await handle.close();
    throw CosignkitError.isInstance(error) ? error : fileError(logPath, error);
  }
}

/** Numbers and chains entries after `last`; the lines to write, newline-terminated. */
export function chainEntries(
  pending: readonly PendingEntry[],
  last: LogHead | undefined,
  time: string,
): { entries: LogEntry[]; bytes: Buffer } {
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
  return { entries, bytes: Buffer.from(`${lines.join('\n')}\n`, 'utf8') };
}

export async function writeAll(handle: FileHandle, bytes: Buffer, logPath: string): Promise<void> {
  const { bytesWritten } = await handle.write(bytes);
  if (bytesWritten !== bytes.length) throw new CosignkitError('IO', `${logPath}: short write`);
}
