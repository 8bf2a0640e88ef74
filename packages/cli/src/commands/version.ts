import type { Command } from '../command.js';
import { VERSION } from '../version.js';

const command: Command = {
  summary: 'print the version of cosignkit',
  help: `Usage: cosignkit version [--json]

Prints the version of cosignkit (and of Node it runs on).`,
  bare: true,
  async run(context) {
    if (context.argv.length > 0) {
      const { usageError } = await import('../usage-error.js');
      throw usageError('version', `unexpected argument "${context.argv[0]}"`);
    }
    return { text: `cosignkit ${VERSION}`, data: { version: VERSION, node: process.versions.node } };
  },
};

export default command;
