import { CosignkitError, redactKeyRef } from '@cosignkit/core';
import { booleanFlag, parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { clearDefaultKey } from '../default-key.js';
import { confirmOnTerminal } from '../secrets.js';
import { usageError } from '../usage-error.js';

const FLAGS = {
  key: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  force: { type: 'boolean', short: 'f' },
} as const;

const command: Command = {
  summary: 'delete a key (asks first unless --yes)',
  help: `Usage: cosignkit key delete --key <ref> [--yes]

Deletes the key (a key file and its .pub, a token object, a TPM key, a keyring entry). Asks for
confirmation on the terminal; without a terminal, --yes (or -f) is required. When the key is the
default key of the user's or the project's config file, "defaultKey" is removed from that file.

Flags:
  --key <ref>         the key to delete
  -y, --yes           do not ask
  -f, --force         the same as --yes`,
  async run(context) {
    const flags = parseFlags('key delete', context.argv, FLAGS, { min: 0, max: 0, names: '' });
    const key = stringFlag(flags, 'key');
    if (key === undefined) throw usageError('key delete', 'missing --key <ref>');
    const shown = redactKeyRef(key);
    const confirmed = booleanFlag(flags, 'yes') === true || booleanFlag(flags, 'force') === true;
    if (!confirmed && !process.stdin.isTTY) {
      throw usageError('key delete', `no terminal to confirm deleting ${shown}: pass --yes`);
    }
    const opened = await context.keys.open(key);
    if (!opened.backend.capabilities.delete) {
      throw new CosignkitError('NOT_SUPPORTED', `the ${opened.backend.name} backend cannot delete keys`);
    }
    if (!confirmed) {
      const answer = await confirmOnTerminal(`Delete the key ${shown}? [y/N] `);
      if (answer === undefined) throw usageError('key delete', `no terminal to confirm deleting ${shown}: pass --yes`);
      if (!answer) return { text: 'Not deleted', data: { deleted: false, key: shown } };
    }
    await opened.manager.deleteKey(opened.keyId);
    // A default key that no longer exists would make every later command fail with KEY_NOT_FOUND.
    const cleared = await clearDefaultKey(context.registry, key, context.cwd, context.env);
    return {
      text: `Deleted ${shown}`,
      data: { deleted: true, key: shown, clearedDefaultIn: cleared },
      notes: cleared.map((path) => `cosignkit: it was the default key: removed "defaultKey" from ${path}`),
    };
  },
};

export default command;
