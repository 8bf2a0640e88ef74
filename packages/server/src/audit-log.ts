import { LogWriter, type PendingEntry } from '@cosignkit/dsse';
import { silentLogger, type Logger } from '@cosignkit/core';

/** What the audit log records about one request (never a token, key or request body). */
export interface AuditRecord {
  id: string;
  route: string;
  outcome: 'signed' | 'refused' | 'verified';
  status: number;
  /** The problem slug of a refusal. */
  problem?: string;
  tenant?: string;
  subject?: string;
  plan?: string;
  predicateType?: string;
  keyId?: string;
  remote?: string;
}

interface Waiting {
  entry: PendingEntry;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The hash-chained audit log (dsse's log format, so `cosignkit verify-log` checks it), held open by this
 * process. Group commit: records queue while a write is in flight (or until the current event-loop turn
 * ends) and the next write takes them all, in one O_DSYNC write; each caller's promise resolves only once its
 * record is on disk, so a response never precedes its audit entry.
 */
export class AuditLog {
  private queue: Waiting[] = [];
  private writing: Promise<void> | undefined;
  /** Entries written so far (for metrics). */
  batches = 0;

  private constructor(
    private readonly writer: LogWriter,
    private readonly logger: Logger,
  ) {}

  /** Opens the log (creating it) and holds it until close(): a log that cannot be written stops start-up. */
  static async open(path: string, logger: Logger = silentLogger): Promise<AuditLog> {
    return new AuditLog(await LogWriter.open(path, { logger, timeoutMs: 10_000 }), logger);
  }

  append(record: AuditRecord, envelope = '', subjects: PendingEntry['subjects'] = []): Promise<void> {
    const entry: PendingEntry = { envelope, subjects, record: clean(record) };
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      // The first write of a group starts after the requests this turn of the event loop is handling have
      // queued theirs (setImmediate: before the loop waits for I/O again), so a burst of requests shares one
      // write instead of the first going alone and the rest waiting for it, then for their own.
      this.writing ??= new Promise<void>((go) => setImmediate(go)).then(() => this.drain());
    });
  }

  /** Waits until every queued record is on disk (graceful drain). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Flushes, writes the head, releases the log. */
  async close(): Promise<void> {
    await this.flush();
    await this.writer.close();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.writer.append(batch.map((w) => w.entry));
          this.batches++;
          for (const w of batch) w.resolve();
        } catch (error) {
          this.logger.warn('audit: append failed', { error: (error as Error).message });
          for (const w of batch) w.reject(error);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }
}

function clean(record: AuditRecord): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}
