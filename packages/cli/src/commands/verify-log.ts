import { attestationId, envelopeDigest, readEnvelopeFile, verifyLog } from '@cosignkit/dsse';
import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { usageError } from '../usage-error.js';

const FLAGS = { dsse: { type: 'string' }, log: { type: 'string' } } as const;

const command: Command = {
  summary: 'verify an append-only DSSE log and find an envelope in it',
  configOnUse: true,
  help: `Usage: cosignkit verify-log --log <log.jsonl> [--dsse <file>]

Checks the whole hash chain of the log (each line's own hash, the link to the previous line, the sequence
numbers, a complete last line, and <log>.head) and, with --dsse, finds the envelope's entry.
Exit code 2 when the log is not intact (the first problem's line is named) or the envelope is not in it.`,
  async run(context) {
    const flags = parseFlags('verify-log', context.argv, FLAGS, { min: 0, max: 0, names: '' });
    const log = stringFlag(flags, 'log');
    if (log === undefined) throw usageError('verify-log', 'missing --log <file>');
    const dsse = stringFlag(flags, 'dsse');
    const envelope = dsse === undefined ? undefined : (await readEnvelopeFile(dsse)).envelope;
    const digest = envelope === undefined ? undefined : `sha256:${envelopeDigest(envelope)}`;
    const id = envelope === undefined ? undefined : attestationId(envelope);
    const result = await verifyLog(log, digest === undefined ? {} : { envelope: digest });
    const lines: string[] = result.problems.map((p) => `${log}: ${p.message}`);
    if (result.intact) {
      lines.push(
        `Log intact: ${result.entries} entries${result.head ? `, head seq ${result.head.seq} hash ${result.head.hash}` : ''}`,
      );
      if (!result.headFile && result.entries > 0)
        lines.push(`note: no ${log}.head file, so removal of the last lines cannot be detected`);
    }
    for (const f of result.found)
      lines.push(
        `Found ${f.envelope} at line ${f.line} (seq ${f.seq}, ${f.time})${id ? `, attestation_id ${id.id}` : ''}`,
      );
    const missing = digest !== undefined && result.found.length === 0;
    if (missing) lines.push(`${digest} is not in the log`);
    const data = {
      ...result,
      ...(digest ? { envelope: digest } : {}),
      ...(id ? { attestation_id: id.id, attestationIdSource: id.source } : {}),
    };
    if (!result.intact || missing) {
      const first = result.problems[0]?.message ?? `${digest} is not in the log`;
      return {
        exitCode: 2,
        text: lines.join('\n'),
        data,
        notes: [`cosignkit: verification failed: ${first} [VERIFICATION_FAILED]`],
      };
    }
    return { text: lines.join('\n'), data };
  },
};

export default command;
