// Core's errors entry alone: the bin reads the global flags (to choose the blob commands' bundle) before
// anything else of the CLI is loaded.
import { CosignkitError } from '@cosignkit/core/errors';
import type { CommandContext } from './command.js';

export const ENGINES = ['auto', 'native', 'cosign'] as const;

export interface GlobalFlags {
  json: boolean;
  engine: CommandContext['engine'];
  useAgent: boolean;
  help: boolean;
  version: boolean;
  rest: string[];
}

/** Takes the global flags out wherever they stand (before `--`), leaving the command and its own flags. */
export function parseGlobals(argv: readonly string[]): GlobalFlags {
  const flags: GlobalFlags = { json: false, engine: 'auto', useAgent: true, help: false, version: false, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      flags.rest.push(...argv.slice(i));
      break;
    }
    if (token === '--json' || token === '--json=true') flags.json = true;
    else if (token === '--json=false') flags.json = false;
    else if (token === '--no-agent') flags.useAgent = false;
    else if (token === '--help' || token === '-h') flags.help = true;
    else if (token === '--version') flags.version = true;
    else if (token === '--engine' || token.startsWith('--engine=')) {
      const value = token === '--engine' ? argv[++i] : token.slice('--engine='.length);
      if (!(ENGINES as readonly string[]).includes(value ?? '')) {
        throw new CosignkitError(
          'USAGE',
          `--engine takes ${ENGINES.join(', ')}${value === undefined ? '' : `, not "${value}"`}`,
        );
      }
      flags.engine = value as GlobalFlags['engine'];
    } else flags.rest.push(token);
  }
  return flags;
}
