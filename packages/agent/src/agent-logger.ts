import type { Logger } from '@cosignkit/core';

/**
 * The agent's log: one line per event on stderr (a file under `agent start`), with a time stamp. Fields are
 * ids, redacted references and error codes: nothing the agent logs ever holds a password or PIN.
 */
export function agentLogger(write: (line: string) => void, debug: boolean): Logger {
  const line = (level: string, message: string, fields?: Record<string, unknown>) =>
    write(`${new Date().toISOString()} ${level} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`);
  return {
    debug: (message, fields) => (debug ? line('debug', message, fields) : undefined),
    info: (message, fields) => line('info', message, fields),
    warn: (message, fields) => line('warn', message, fields),
  };
}
