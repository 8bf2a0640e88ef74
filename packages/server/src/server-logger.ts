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

/** Structured JSON logs on stdout (or `destination`), credentials redacted. */
export function createServerLogger(level: string, destination?: pino.DestinationStream): PinoLogger {
  return pino(
    { level, base: { service: 'cosignkit-signer' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    destination,
  );
}

/** core's Logger interface on top of pino, for the libraries the server calls. */
export function coreLogger(log: PinoLogger): Logger {
  return {
    debug: (message, fields) => log.debug(fields ?? {}, message),
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
  };
}
