import type { Logger } from '@cosignkit/core';
import type { AgentLogLevel } from './agent-settings.js';

const RANK: Readonly<Record<AgentLogLevel, number>> = { debug: 0, info: 1, warn: 2 };

/**
 * The agent's log: one line per event on stderr (a file under `agent start`), with a time stamp, from `level` up
 * (`true` is debug, `false` info, as before levels). Fields are ids, redacted references and error codes:
 * nothing the agent logs ever holds a password or PIN.
 */
export function agentLogger(write: (line: string) => void, level: AgentLogLevel | boolean = 'info'): Logger {
  const least = RANK[level === true ? 'debug' : level === false ? 'info' : level];
  const line = (at: AgentLogLevel, message: string, fields?: Record<string, unknown>) => {
    if (RANK[at] >= least)
      write(`${new Date().toISOString()} ${at} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`);
  };
  return {
    debug: (message, fields) => line('debug', message, fields),
    info: (message, fields) => line('info', message, fields),
    warn: (message, fields) => line('warn', message, fields),
  };
}
