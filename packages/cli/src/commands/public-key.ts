import { redactKeyRef, writeFileAtomic } from '@cosignkit/core';
import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { usageError } from '../usage-error.js';

const FLAGS = {
  key: { type: 'string' },
  outfile: { type: 'string' },
} as const;

const command: Command = {
  summary: 'print or write the public key of a key',
  help: `Usage: cosignkit public-key [--key <ref>] [--outfile <file>]

Prints the PEM public key of the key (cosign's "public-key"). A file key asks for its password when no
.pub file lies beside it.

Flags:
  --key <ref>        the key (default: the configured default key)
  --outfile <file>   write the PEM to <file> instead of stdout`,
  async run(context) {
    const flags = parseFlags('public-key', context.argv, FLAGS, { min: 0, max: 0, names: '' });
    const key = stringFlag(flags, 'key') ?? context.config.defaultKey;
    if (key === undefined) throw usageError('public-key', 'no key: pass --key <ref>');
    const { manager, keyId } = await context.keys.open(key);
    const pem = await manager.getPublicKeyPem(keyId);
    const fingerprint = await manager.getPublicKeyFingerprint(keyId);
    const outfile = stringFlag(flags, 'outfile');
    const data = { key: redactKeyRef(key), publicKeyPem: pem, fingerprint, ...(outfile ? { path: outfile } : {}) };
    if (outfile) {
      await writeFileAtomic(outfile, pem, { mode: 0o644, overwrite: true });
      return { text: '', data, notes: [`Public key written to ${outfile}`] };
    }
    return { text: pem, data };
  },
};

export default command;
