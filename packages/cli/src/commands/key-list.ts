import { redactKeyRef, type KeyInfo } from '@cosignkit/core';
import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { defaultKeySources, keyIdentity } from '../default-key.js';
import { describeKey } from '../key-format.js';

const FLAGS = {
  backend: { type: 'string' },
} as const;

const command: Command = {
  summary: 'list keys: key files here and in every configured backend',
  help: `Usage: cosignkit key list [--backend <name>]

Lists the keys of one backend's default store, or (without --backend) the key files in the current
directory plus every backend named in the config files. Listing never asks for a password or PIN:
key files are listed from the .pub beside them. The default key is marked "(default)"
("default": true with --json). For the keyring, every service cosignkit has made keys in is listed.
A configured backend that cannot be reached is reported on stderr and skipped; with --backend it is an error.

Flags:
  --backend <name>   file, pkcs11, tpm, keyring or a configured backend`,
  async run(context) {
    const flags = parseFlags('key list', context.argv, FLAGS, { min: 0, max: 0, names: '' });
    const only = stringFlag(flags, 'backend');
    const names =
      only !== undefined ? [only] : ['file', ...Object.keys(context.config.backends ?? {}).filter((n) => n !== 'file')];
    const keys: KeyInfo[] = [];
    const notes: string[] = [];
    const skipped: { backend: string; error: { code: string; message: string } }[] = [];
    for (const name of names) {
      try {
        const { manager } = await context.keys.open(`${name}:`);
        keys.push(...(await manager.listKeys()));
      } catch (error) {
        if (only !== undefined) throw error;
        const code = (error as { code?: string }).code ?? 'INTERNAL';
        const message = (error as Error).message;
        skipped.push({ backend: name, error: { code, message } });
        notes.push(`cosignkit: skipped backend ${name}: ${message} [${code}]`);
      }
    }
    // The default key as the config file that wins sets it (the project's over the user's).
    const source = (await defaultKeySources(context.cwd, context.env)).at(-1);
    const wanted = source ? await keyIdentity(context.registry, source.defaultKey, source.base).catch(() => '') : '';
    const marks = await Promise.all(
      keys.map(
        async (k) =>
          wanted !== '' && (await keyIdentity(context.registry, k.ref, context.cwd).catch(() => '')) === wanted,
      ),
    );
    const safe = keys.map((k, i) => ({ ...k, ref: redactKeyRef(k.ref), default: marks[i] }));
    return {
      text: keys.length === 0 ? 'no keys' : keys.map((k, i) => describeKey(k, marks[i])).join('\n'),
      data: { keys: safe, skipped },
      notes,
    };
  },
};

export default command;
