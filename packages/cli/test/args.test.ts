import { describe, expect, it } from 'vitest';
import { parseFlags } from '../src/args.js';

// The command-line grammar (cosign's, pflag's), parsed by our own loop since issue 19: every form a user
// writes, and every refusal with the message it gives.
const FLAGS = {
  key: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  recursive: { type: 'boolean', short: 'r' },
  jobs: { type: 'string', short: 'j' },
  annotations: { type: 'string', short: 'a', multiple: true },
} as const;
const parse = (...argv: string[]) => parseFlags('cmd', argv, FLAGS, { min: 0, max: 5, names: 'files' });
const refusal = (...argv: string[]) => {
  try {
    parse(...argv);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('parsed');
};

describe('parseFlags', () => {
  it('reads long flags with a separate or an inline value, and booleans bare or with true/false', () => {
    expect(parse('--key', 'k.pub', 'f')).toEqual({ values: { key: 'k.pub' }, positionals: ['f'] });
    expect(parse('--key=a=b', '--yes', 'f').values).toEqual({ key: 'a=b', yes: true });
    expect(parse('--yes=false', '--recursive=T').values).toEqual({ yes: false, recursive: true });
    expect(parse('--key=').values).toEqual({ key: '' });
  });

  it('reads short flags alone, grouped, and with a joined or separate value', () => {
    expect(parse('-y', '-j', '4').values).toEqual({ yes: true, jobs: '4' });
    expect(parse('-yrj4').values).toEqual({ yes: true, recursive: true, jobs: '4' });
    expect(parse('-yj', '8').values).toEqual({ yes: true, jobs: '8' });
  });

  it('keeps the last value of a flag given twice, and every value of a multiple one', () => {
    expect(parse('--key', 'a', '--key=b', '--yes', '--yes=false').values).toEqual({ key: 'b', yes: false });
    expect(parse('-a', 'x=1', '--annotations', 'y=2', '-az=3').values).toEqual({ annotations: ['x=1', 'y=2', 'z=3'] });
  });

  it('takes "-" as a value or a file, and everything after "--" as files', () => {
    expect(parse('--key', '-', '-')).toEqual({ values: { key: '-' }, positionals: ['-'] });
    expect(parse('f', '--', '--yes', '-y')).toEqual({ values: {}, positionals: ['f', '--yes', '-y'] });
  });

  it('refuses unknown flags, names inherited from Object, and a missing or flag-like value', () => {
    expect(refusal('--kee', 'x')).toBe('unknown flag --kee (see "cosignkit cmd --help")');
    expect(refusal('--constructor')).toMatch(/^unknown flag --constructor /);
    expect(refusal('--__proto__=x')).toMatch(/^unknown flag --__proto__ /);
    expect(refusal('-x')).toMatch(/^unknown flag -x /);
    expect(refusal('-yx')).toMatch(/^unknown flag -x /);
    expect(refusal('--key')).toMatch(/^flag --key needs a value /);
    expect(refusal('--key', '--yes')).toMatch(/^flag --key needs a value /);
    expect(refusal('-j')).toMatch(/^flag -j needs a value /);
    expect(refusal('--yes=maybe')).toMatch(/^--yes takes true or false, not "maybe" /);
    expect(refusal('--yes=constructor')).toMatch(/^--yes takes true or false, not "constructor" /);
  });

  it('counts the files', () => {
    const one = (...argv: string[]) => parseFlags('cmd', argv, FLAGS, { min: 1, max: 1, names: 'the file' });
    expect(() => one()).toThrow(/^missing the file /);
    expect(() => one('a', 'b')).toThrow(/^too many arguments \(at "b"\) /);
  });
});
