import { appendToLog, attestationId, readEnvelopeFile } from '@cosignkit/dsse';
import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { usageError } from '../usage-error.js';

const FLAGS = { dsse: { type: 'string' }, log: { type: 'string' } } as const;

const command: Command = {
  summary: 'record a DSSE envelope in an append-only, hash-chained log',
  help: `Usage: cosignkit log-dsse --dsse <file> --log <log.jsonl>

Appends one line to the log: sequence number, time, the envelope's sha256, its in-toto subjects, the
previous line's hash and its own hash. Returns only once the line is on disk (fsync). Concurrent writers
are serialized by <log>.lock; <log>.head records the last entry so a cut-off tail is detected.
A file that is not a log, or whose end disagrees with <log>.head, is refused unchanged (exit 2).
The envelope's sha256 is over its canonical form (compact JSON, standard base64), so a bundle and the
bare envelope inside it are the same entry.`,
  async run(context) {
    const flags = parseFlags('log-dsse', context.argv, FLAGS, { min: 0, max: 0, names: '' });
    const dsse = stringFlag(flags, 'dsse');
    const log = stringFlag(flags, 'log');
    if (dsse === undefined || log === undefined) throw usageError('log-dsse', 'pass --dsse <file> and --log <file>');
    const { envelope } = await readEnvelopeFile(dsse);
    const entry = await appendToLog(log, envelope, { logger: context.logger, signal: context.signal });
    // Seed 003's identity of the attestation, beside the envelope digest the entry chains.
    const id = attestationId(envelope);
    return {
      text: `Logged ${entry.envelope} as entry ${entry.seq} in ${log} (attestation_id ${id.id})`,
      data: { log, entry, attestation_id: id.id, attestationIdSource: id.source },
    };
  },
};

export default command;
