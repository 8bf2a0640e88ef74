import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CosignkitError, fileError, silentLogger, type Logger } from '@cosignkit/core';
import { GENESIS_HASH, type LogEntry } from './log-entry.js';
import { chainEntries, openForAppend, type PendingEntry } from './log-append.js';
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
      const held = withFileLock(
        logPath,
        async () => {
          const { handle, created, last } = await openForAppend(logPath, logger);
          try {
            if (created) await syncDirectory(dirname(logPath));
          } catch (error) {
            await handle.close();
            throw fileError(logPath, error);
          }
          resolve(new LogWriter(logPath, handle, last, release, held, logger));
          await released;
        },
        options,
      );
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
    const { entries, bytes } = chainEntries(pending, { seq: this.seq, hash: this.prev }, new Date().toISOString());
    const tail = entries[entries.length - 1]!;
    try {
      const { bytesWritten } = await this.handle.write(bytes);
      if (bytesWritten !== bytes.length) throw new CosignkitError('IO', `${this.path}: short write`);
      await this.handle.sync();
    } catch (error) {
      // The file may now end in a partial line: no further append may chain after it.
      this.closed = true;
      throw CosignkitError.isInstance(error) ? error : fileError(this.path, error);
    }
    this.seq = tail.seq;
    this.prev = tail.hash;
    this.head = { seq: tail.seq, hash: tail.hash };
    this.headWriting ??= this.writeHeads().catch((error: Error) => {
      // The entries are durable; only the anti-truncation anchor lags. Said, not thrown.
      this.logger.warn('log: cannot update the head file', { log: this.path, error: error.message });
    });
    return entries;
  }

  private async writeHeads(): Promise<void> {
    try {
      for (let written: LogHead | undefined; this.head !== written; ) {
        written = this.head!;
        await writeHead(this.path, written);
      }
    } finally {
      this.headWriting = undefined;
    }
  }
}
