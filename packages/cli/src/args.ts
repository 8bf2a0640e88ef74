import { parseArgs } from 'node:util';
import { usageError } from './usage-error.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
}

export interface ParsedFlags {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

const BOOLEAN_TEXT: Record<string, boolean> = { true: true, '1': true, t: true, false: false, '0': false, f: false };

/**
 * Parses a command's flags with node:util parseArgs, in cosign's (pflag's) grammar: `--flag value`,
 * `--flag=value`, and booleans as `--yes` or `--tlog-upload=false`. parseArgs refuses a value on a boolean,
 * so `--name=<bool>` tokens of boolean flags are taken out first and decided here.
 */
export function parseFlags(
  command: string,
  argv: readonly string[],
  flags: Record<string, FlagSpec>,
  positionals: { min: number; max: number; names: string },
): ParsedFlags {
  const explicit: Record<string, boolean> = {};
  const rest: string[] = [];
  let afterSeparator = false;
  for (const token of argv) {
    if (!afterSeparator && token === '--') afterSeparator = true;
    const match = afterSeparator ? null : /^--([^=]+)=(.*)$/s.exec(token);
    if (match && flags[match[1]!]?.type === 'boolean') {
      const value = BOOLEAN_TEXT[match[2]!.toLowerCase()];
      if (value === undefined) {
        throw usageError(command, `--${match[1]} takes true or false, not "${match[2]}"`);
      }
      explicit[match[1]!] = value;
      continue;
    }
    rest.push(token);
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options: flags, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(command, describeParseError(error));
  }
  const values = { ...(parsed.values as ParsedFlags['values']), ...explicit };
  const found = parsed.positionals;
  if (found.length < positionals.min) {
    throw usageError(command, positionals.min === 1 ? `missing ${positionals.names}` : `expected ${positionals.names}`);
  }
  if (found.length > positionals.max) {
    const extra = found[positionals.max]!;
    throw usageError(
      command,
      positionals.max === 0 ? `unexpected argument "${extra}"` : `too many arguments (at "${extra}")`,
    );
  }
  return { values, positionals: found };
}

function describeParseError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message ?? String(error);
  const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${flag ?? message}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return flag ? `flag ${flag.split('=')[0]} needs a value` : message.split('\n')[0]!;
  }
  return message.split('\n')[0]!;
}

/** A string flag's value, or undefined. */
export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const value = flags.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A boolean flag: true, false, or undefined when the user did not write it. */
export function booleanFlag(flags: ParsedFlags, name: string): boolean | undefined {
  const value = flags.values[name];
  return typeof value === 'boolean' ? value : undefined;
}
