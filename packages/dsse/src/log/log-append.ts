import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CosignkitError, fileError, silentLogger, type Logger } from '@cosignkit/core';
import type { Envelope } from '../envelope.js';
import { envelopeDigest } from '../envelope-digest.js';
import { IN_TOTO_PAYLOAD_TYPE, readStatement, type Subject } from '../statement.js';
import { GENESIS_HASH, makeEntry, type LogEntry } from './log-entry.js';
import { readHead, syncDirectory, writeHead } from './log-head.js';
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
  const logger = options.logger ?? silentLogger;
  return withFileLock(
    logPath,
    async () => {
      const head = await readHead(logPath);
      let handle: FileHandle;
      let created = false;
      try {
        handle = await open(logPath, constants.O_RDWR | constants.O_APPEND);
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
          constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL,
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
        const last = plan.last;
        const { entry, line } = makeEntry({
          seq: last ? last.seq + 1 : 1,
          time: (options.now ?? new Date()).toISOString(),
          envelope: digest,
          subjects,
          prev: last ? last.hash : GENESIS_HASH,
        });
        await writeAll(handle, Buffer.from(`${line}\n`, 'utf8'), logPath);
        await handle.sync();
        if (created) await syncDirectory(dirname(logPath));
        await writeHead(logPath, { seq: entry.seq, hash: entry.hash });
        return entry;
      } catch (error) {
        throw CosignkitError.isInstance(error) ? error : fileError(logPath, error);
      } finally {
        await handle.close();
      }
    },
    options,
  );
}

async function writeAll(handle: FileHandle, bytes: Buffer, logPath: string): Promise<void> {
  const { bytesWritten } = await handle.write(bytes);
  if (bytesWritten !== bytes.length) throw new CosignkitError('IO', `${logPath}: short write`);
}
