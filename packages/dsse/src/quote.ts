import { escapeForTerminal } from '@cosignkit/core';

/**
 * A value from a file (a payloadType, a keyid, a media type), quoted for a message: JSON-quoted and with every
 * control, bidi and separator character escaped, so a hostile document cannot break the message's one line,
 * move the cursor or print a fake "Verified OK".
 */
export function quoted(value: unknown): string {
  return escapeForTerminal(JSON.stringify(value ?? null) ?? String(value));
}
