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
 * Parses a command's flags in cosign's (pflag's) grammar: `--flag value`, `--flag=value`, booleans as `--yes`
 * or `--tlog-upload=false`, short flags (`-y`, `-j 4`, `-j4`, `-yr`), and `--` before positionals that start
 * with a dash. A value taken from the next argument may not look like a flag (`-` alone may): `--key --yes`
 * is a missing value, not a key named "--yes" (write `--key=--yes`). A flag given twice keeps its last value,
 * or each value when it is `multiple`.
 *
 * Our own loop rather than node:util's parseArgs, which reads the same lines the same way: loading and
 * running it was a tenth of a one-shot verify-blob's time above Node's floor (issue 19).
 */
export function parseFlags(
  command: string,
  argv: readonly string[],
  flags: Record<string, FlagSpec>,
  positionals: { min: number; max: number; names: string },
): ParsedFlags {
  const values: ParsedFlags['values'] = {};
  const found: string[] = [];
  const store = (name: string, value: string | boolean) => {
    if (!flags[name]!.multiple) {
      values[name] = value;
      return;
    }
    const list = (values[name] as string[] | undefined) ?? [];
    list.push(value as string);
    values[name] = list;
  };
  // A string flag without `=value` takes the next argument.
  const valueAfter = (index: number, written: string): string => {
    const next = argv[index + 1];
    if (next === undefined || (next.length > 1 && next.startsWith('-'))) {
      throw usageError(command, `flag ${written} needs a value`);
    }
    return next;
  };
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      found.push(...argv.slice(i + 1));
      break;
    }
    if (token.length < 2 || token[0] !== '-') {
      found.push(token);
    } else if (token[1] === '-') {
      const equals = token.indexOf('=');
      const name = equals === -1 ? token.slice(2) : token.slice(2, equals);
      const spec = Object.hasOwn(flags, name) ? flags[name]! : undefined;
      if (spec === undefined) throw usageError(command, `unknown flag --${name}`);
      if (equals === -1) {
        store(name, spec.type === 'boolean' ? true : valueAfter(i++, `--${name}`));
      } else if (spec.type === 'string') {
        store(name, token.slice(equals + 1));
      } else {
        const text = token.slice(equals + 1);
        const key = text.toLowerCase();
        const value = Object.hasOwn(BOOLEAN_TEXT, key) ? BOOLEAN_TEXT[key] : undefined;
        if (value === undefined) throw usageError(command, `--${name} takes true or false, not "${text}"`);
        store(name, value);
      }
    } else {
      // One short flag or a group of them: booleans until a string flag, which takes the rest or the next.
      for (let k = 1; k < token.length; k++) {
        const short = token[k]!;
        const name = Object.keys(flags).find((long) => flags[long]!.short === short);
        if (name === undefined) throw usageError(command, `unknown flag -${short}`);
        if (flags[name]!.type === 'boolean') {
          store(name, true);
          continue;
        }
        const rest = token.slice(k + 1);
        store(name, rest !== '' ? rest : valueAfter(i++, `-${short}`));
        break;
      }
    }
  }
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
