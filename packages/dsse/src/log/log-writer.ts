import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CosignkitError, fileError, silentLogger, type Logger } from '@cosignkit/core';
import { makeEntry, GENESIS_HASH, type LogEntry } from './log-entry.js';
import { lastEntry, type PendingEntry } from './log-append.js';
import { syncDirectory, writeHead, type LogHead } from './log-head.js';
import { withFileLock, type LockOptions } from './log-lock.js';

/**
 * A log held open by one long-lived writer (a service's audit log): the lock is taken once, the tail read
 * once, and each `append` is one write and one fsync. Entries are durable when `append` resolves. The head
 * file follows behind, coalesced (a head one or more entries behind its log is what a crash between the two
 * fsyncs leaves anyway, and verifyLog accepts it); `close` writes the last one.
 */
export class LogWriter {
  private seq: number;
  private prev: string;
  private queue: Promise<unknown> = Promise.resolve();
  private head: LogHead | undefined;
  private headWriting: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private readonly path: string,
    private readonly handle: FileHandle,
    last: { seq: number; hash: string } | undefined,
    private readonly release: () => void,
    private readonly held: Promise<unknown>,
    private readonly logger: Logger,
  ) {
    this.seq = last?.seq ?? 0;
    this.prev = last?.hash ?? GENESIS_HASH;
  }

  /** Opens (or creates) the log and holds its lock until close(). */
  static async open(logPath: string, options: LockOptions & { logger?: Logger } = {}): Promise<LogWriter> {
    const logger = options.logger ?? silentLogger;
    return new Promise<LogWriter>((resolve, reject) => {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const held = withFileLock(logPath, async () => {
        let handle: FileHandle;
        try {
          handle = await open(logPath, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o644);
          await syncDirectory(dirname(logPath));
        } catch (error) {
          throw fileError(logPath, error);
        }
        try {
          resolve(new LogWriter(logPath, handle, await lastEntry(handle, logPath, logger), release, held, logger));
        } catch (error) {
          await handle.close();
          throw error;
        }
        await released;
      }, options);
      held.catch(reject);
    });
  }

  /** Chains, numbers and writes the entries in one write and one fsync; resolves once they are on disk. */
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
    await this.headWriting;
    await this.handle.close();
    this.release();
    await this.held.catch(() => undefined);
  }

  private async write(pending: readonly PendingEntry[]): Promise<LogEntry[]> {
    if (this.closed) throw new CosignkitError('IO', `${this.path}: the log writer is closed`);
    if (pending.length === 0) return [];
    const time = new Date().toISOString();
    const entries: LogEntry[] = [];
    const lines: string[] = [];
    let { seq, prev } = this;
    for (const p of pending) {
      const { entry, line } = makeEntry({ seq: ++seq, time, envelope: p.envelope, subjects: p.subjects, ...(p.record === undefined ? {} : { record: p.record }), prev });
      prev = entry.hash;
      entries.push(entry);
      lines.push(line);
    }
    const bytes = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    try {
      const { bytesWritten } = await this.handle.write(bytes);
      if (bytesWritten !== bytes.length) throw new CosignkitError('IO', `${this.path}: short write`);
      await this.handle.sync();
    } catch (error) {
      // The file may now end in a partial line: no further append may chain after it.
      this.closed = true;
      throw CosignkitError.isInstance(error) ? error : fileError(this.path, error);
    }
    this.seq = seq;
    this.prev = prev;
    this.head = { seq, hash: prev };
    this.headWriting ??= this.writeHeads().catch((error: Error) => {
      // The entries are durable; only the anti-truncation anchor lags. Said, not thrown.
      this.logger.warn('log: cannot update the head file', { log: this.path, error: error.message });
    });
    return entries;
  }

  private async writeHeads(): Promise<void> {
    try {
      for (let written: LogHead | undefined; this.head !== written;) {
        written = this.head!;
        await writeHead(this.path, written);
      }
    } finally {
      this.headWriting = undefined;
    }
  }
}
