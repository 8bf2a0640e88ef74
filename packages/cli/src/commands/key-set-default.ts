import { CosignkitError, parseKeyRef, redactKeyRef, updateUserConfig } from '@cosignkit/core';
import { parseFlags } from '../args.js';
import type { Command } from '../command.js';

const command: Command = {
  summary: 'set the key used when a command gets no --key',
  help: `Usage: cosignkit key set-default <ref>

Stores <ref> as "defaultKey" in the user config file ($XDG_CONFIG_HOME/cosignkit/config.json). A
project's cosignkit.config.json still wins. References holding a PIN (pin-value=…) are refused: use
pin-source=file:… or COSIGN_PKCS11_PIN.`,
  async run(context) {
    const flags = parseFlags('key set-default', context.argv, {}, { min: 1, max: 1, names: 'the key reference' });
    const ref = flags.positionals[0]!;
    const parsed = parseKeyRef(ref);
    if (redactKeyRef(parsed.text) !== parsed.text) {
      throw new CosignkitError(
        'USAGE',
        'refusing to store a PIN or password in the config file: use pin-source=file:… instead',
      );
    }
    // A relative key file would change meaning with the working directory.
    const { resolve } = await import('node:path');
    const stored = parsed.scheme === 'file' && !ref.startsWith('file:') ? resolve(context.cwd, parsed.path) : ref;
    await context.registry.backendFor(parsed.scheme);
    const path = await updateUserConfig((config) => ({ ...config, defaultKey: stored }), context.env);
    return { text: `Default key set to ${stored} in ${path}`, data: { defaultKey: stored, configPath: path } };
  },
};

export default command;
