import { join, resolve } from 'node:path';
import {
  CosignkitError,
  type CosignkitConfig,
  PROJECT_CONFIG_FILE,
  findProjectConfig,
  parseKeyRef,
  redactKeyRef,
  updateConfigFile,
  updateUserConfig,
} from '@cosignkit/core';
import { booleanFlag, parseFlags } from '../args.js';
import type { Command } from '../command.js';

const FLAGS = { project: { type: 'boolean' } } as const;

const command: Command = {
  summary: 'set the key used when a command gets no --key',
  help: `Usage: cosignkit key set-default [--project] <ref>

Stores <ref> as "defaultKey" in the user config file ($XDG_CONFIG_HOME/cosignkit/config.json), or with
--project in the project's ${PROJECT_CONFIG_FILE} (the nearest one in this directory or a parent, else a
new one here). A project's file wins over the user's. Prints the file it wrote. References holding a PIN
(pin-value=…) are refused: use pin-source=file:… or COSIGN_PKCS11_PIN.

Flags:
  --project    write the project's ${PROJECT_CONFIG_FILE} instead of the user's config`,
  async run(context) {
    const flags = parseFlags('key set-default', context.argv, FLAGS, { min: 1, max: 1, names: 'the key reference' });
    const ref = flags.positionals[0]!;
    const project = booleanFlag(flags, 'project') === true;
    const parsed = parseKeyRef(ref);
    if (redactKeyRef(parsed.text) !== parsed.text) {
      throw new CosignkitError(
        'USAGE',
        'refusing to store a PIN or password in the config file: use pin-source=file:… instead',
      );
    }
    await context.registry.backendFor(parsed.scheme);
    // A relative key file would change meaning with the working directory (config paths are not re-based).
    const stored = parsed.scheme === 'file' && !ref.startsWith('file:') ? resolve(context.cwd, parsed.path) : ref;
    const change = (config: CosignkitConfig): CosignkitConfig => ({ ...config, defaultKey: stored });
    const path = project
      ? await updateConfigFile(
          (await findProjectConfig(context.cwd)) ?? join(context.cwd, PROJECT_CONFIG_FILE),
          change,
          {
            shared: true,
          },
        )
      : await updateUserConfig(change, context.env);
    return {
      text: `Default key set to ${stored} in ${path}`,
      data: { defaultKey: stored, configPath: path, scope: project ? 'project' : 'user' },
    };
  },
};

export default command;
