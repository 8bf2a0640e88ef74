import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CosignkitError, fileError, silentLogger, type Logger } from '@cosignkit/core';
import { GENESIS_HASH, type LogEntry } from './log-entry.js';
import { chainEntries, openForAppend, type PendingEntry } from './log-append.js';
import { syncDirectory, writeHead, type LogHead } from './log-head.js';
import { withFileLock, type LockOptions } from './log-lock.js';

const HAS_O_DSYNC = constants.O_DSYNC !== undefined;

/** How often, at most, a busy writer rewrites the head file (see LogWriterOptions.headIntervalMs). */
const HEAD_INTERVAL_MS = 1000;

export interface LogWriterOptions extends LockOptions {
  logger?: Logger;
  /**
   * The head file is rewritten at most this often while entries keep coming (default 1 s), and on close.
   * Each rewrite costs two fsyncs (the temp file and the directory) that would otherwise queue beside the
   * log's own on every group; the head only anchors the log against a cut-off tail, so a head up to this
   * long behind its log (which verifyLog accepts) is the trade.
   */
  headIntervalMs?: number;
}

/**
 * A log held open by one long-lived writer (a service's audit log): the lock is taken once, the tail read
 * once, and each `append` is one O_DSYNC write. Entries are durable when `append` resolves. The head
 * file follows behind, coalesced and at most every headIntervalMs (a head one or more entries behind its log
 * is what a crash between the two syncs leaves anyway, and verifyLog accepts it); `close` writes the last one.
 */
export class LogWriter {
  private seq: number;
  private prev: string;
  private queue: Promise<unknown> = Promise.resolve();
  private head: LogHead | undefined;
  /** The last head on disk. */
  private written: LogHead | undefined;
  private headWriting: Promise<void> | undefined;
  private headTimer: NodeJS.Timeout | undefined;
  private headWrittenAt = 0;
  private closed = false;

  private constructor(
    private readonly path: string,
    private readonly handle: FileHandle,
    last: { seq: number; hash: string } | undefined,
    private readonly release: () => void,
    private readonly held: Promise<unknown>,
    private readonly logger: Logger,
    private readonly headIntervalMs: number,
  ) {
    this.seq = last?.seq ?? 0;
    this.prev = last?.hash ?? GENESIS_HASH;
  }

  /** Opens (or creates) the log and holds its lock until close(). */
  static async open(logPath: string, options: LogWriterOptions = {}): Promise<LogWriter> {
    const logger = options.logger ?? silentLogger;
    const interval = options.headIntervalMs ?? HEAD_INTERVAL_MS;
    return new Promise<LogWriter>((resolve, reject) => {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const held = withFileLock(
        logPath,
        async () => {
          // O_DSYNC: each group is one write that returns once it is on disk, one trip to the thread pool
          // instead of a write and then an fdatasync.
          const { handle, created, last } = await openForAppend(logPath, logger, { dsync: true });
          try {
            if (created) await syncDirectory(dirname(logPath));
          } catch (error) {
            await handle.close();
            throw fileError(logPath, error);
          }
          resolve(new LogWriter(logPath, handle, last, release, held, logger, interval));
          await released;
        },
        options,
      );
      held.catch(reject);
    });
  }

  /** Chains, numbers and writes the entries in one O_DSYNC write; resolves once they are on disk. */
  append(pending: readonly PendingEntry[]): Promise<LogEntry[]> {
    const run = this.queue.then(() => this.write(pending));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Writes the last head and releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    clearTimeout(this.headTimer);
    this.headTimer = undefined;
    await this.headWriting;
    this.startHeadWrite();
    await this.headWriting;
    await this.handle.close();
    this.release();
    await this.held.catch(() => undefined);
  }

  private async write(pending: readonly PendingEntry[]): Promise<LogEntry[]> {
    if (this.closed) throw new CosignkitError('IO', `${this.path}: the log writer is closed`);
    if (pending.length === 0) return [];
    const { entries, bytes } = chainEntries(pending, { seq: this.seq, hash: this.prev }, new Date().toISOString());
    const tail = entries[entries.length - 1]!;
    try {
      // The handle is O_DSYNC: when the write returns, the data and the size that makes it readable are on disk.
      const { bytesWritten } = await this.handle.write(bytes);
      if (bytesWritten !== bytes.length) throw new CosignkitError('IO', `${this.path}: short write`);
      if (!HAS_O_DSYNC) await this.handle.datasync();
    } catch (error) {
      // The file may now end in a partial line: no further append may chain after it.
      this.closed = true;
      throw CosignkitError.isInstance(error) ? error : fileError(this.path, error);
    }
    this.seq = tail.seq;
    this.prev = tail.hash;
    this.head = { seq: tail.seq, hash: tail.hash };
    this.scheduleHead();
    return entries;
  }

  /** Writes the head now if the last write is headIntervalMs old, else once it is (one timer at a time). */
  private scheduleHead(): void {
    if (this.headTimer !== undefined || this.headWriting !== undefined) return;
    const wait = this.headWrittenAt + this.headIntervalMs - Date.now();
    if (wait <= 0) {
      this.startHeadWrite();
      return;
    }
    this.headTimer = setTimeout(() => {
      this.headTimer = undefined;
      this.startHeadWrite();
    }, wait);
    // A pending head write must not keep a process alive; close() writes the last head anyway.
    this.headTimer.unref();
  }

  private startHeadWrite(): void {
    if (this.headWriting !== undefined || this.head === undefined || this.head === this.written) return;
    const head = this.head;
    this.headWrittenAt = Date.now();
    this.headWriting = writeHead(this.path, head)
      .then(
        () => {
          this.written = head;
        },
        (error: Error) => {
          // The entries are durable; only the anti-truncation anchor lags. Said, not thrown.
          this.logger.warn('log: cannot update the head file', { log: this.path, error: error.message });
        },
      )
      .finally(() => {
        this.headWriting = undefined;
        // Entries that came while it was written get their head on the next interval.
        if (!this.closed && this.head !== this.written) this.scheduleHead();
      });
  }
}
