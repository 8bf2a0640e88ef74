import pino, { type Logger as PinoLogger } from 'pino';
import type { Logger } from '@cosignkit/core';

/** Paths pino blanks in every log line: credentials must never reach a log, even by accident. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.dpop',
  'req.headers.cookie',
  'headers.authorization',
  'headers.dpop',
  '*.authorization',
  '*.dpop',
  '*.token',
  '*.opTok',
  '*.poe',
];

/** Log lines are written once this many bytes wait (one write for many request lines)… */
const LOG_BUFFER_BYTES = 4096;
/** …or once the oldest has waited about this long, whichever comes first. */
const LOG_FLUSH_MS = 100;

/**
 * Structured JSON logs, credentials redacted: to `destination` when it is a stream, else to a file
 * descriptor or path (default stdout) through a buffer. A busy signer logs a line per request; written one by
 * one, each line is a write handed to the thread pool (pino's default asynchronous stdout), which costs the
 * event loop more than the line itself. Buffered, many lines share one write; a timer writes what waits after
 * LOG_FLUSH_MS, and pino writes the rest synchronously when the process exits (a kill -9 loses at most that
 * much of the request log; the audit log, not this one, is the durable record).
 */
export function createServerLogger(level: string, destination?: pino.DestinationStream | number | string): PinoLogger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'cosignkit-signer' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  if (typeof destination === 'object') return pino(options, destination);
  const stream = pino.destination({ dest: destination ?? 1, minLength: LOG_BUFFER_BYTES, sync: false });
  // sonic-boom's buffered length (a flush of an empty buffer would still cost a write); a flush while a write
  // is in flight does nothing, and the next tick tries again.
  const buffered = stream as unknown as { _len?: number };
  const timer = setInterval(() => {
    if (buffered._len === 0) return;
    try {
      stream.flush();
    } catch {
      clearInterval(timer); // destroyed
    }
  }, LOG_FLUSH_MS);
  timer.unref();
  stream.once('close', () => clearInterval(timer));
  return pino(options, stream);
}

/** core's Logger interface on top of pino, for the libraries the server calls. */
export function coreLogger(log: PinoLogger): Logger {
  return {
    debug: (message, fields) => log.debug(fields ?? {}, message),
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
  };
}
