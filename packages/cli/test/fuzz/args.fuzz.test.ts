import { CosignkitError } from '@cosignkit/core/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzParams } from '../../../core/test/helpers/fuzz.js';
import { type FlagSpec, parseFlags } from '../../src/args.js';

// Property tests of the command-line parser (src/args.ts, our own loop since issue 19): argv is whatever the
// caller's shell or script hands over. Any line either parses into values of the declared flags alone, or is
// refused as USAGE (reportError escapes the one line it prints); and every line written in cosign's grammar
// reads back as what was written.
const FLAGS: Record<string, FlagSpec> = {
  key: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  recursive: { type: 'boolean', short: 'r' },
  jobs: { type: 'string', short: 'j' },
  annotations: { type: 'string', short: 'a', multiple: true },
};
const parse = (argv: string[]) => parseFlags('cmd', argv, FLAGS, { min: 0, max: 1_000, names: 'files' });

/** Tokens that reach every branch: flags and near-flags, inherited names, separators, plain words. */
const token = fc.oneof(
  fc.constantFrom('--', '-', '--key', '--yes', '-y', '-r', '-j', '-a', '-yrj', '--__proto__', '--constructor'),
  fc.constantFrom('--toString=1', '--yes=', '--yes=TRUE', '--yes=f', '--yes=hasOwnProperty', '-yx', '-Z'),
  fc.string({ maxLength: 12 }).map((s) => `--${s}`),
  fc.string({ maxLength: 6 }).map((s) => `-${s}`),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
);

/** A value a string flag may take from the next argument: anything but a token that looks like a flag. */
const separateValue = fc.string({ maxLength: 10 }).filter((s) => s.length < 2 || !s.startsWith('-'));
const positional = fc.string({ maxLength: 10 }).filter((s) => !s.startsWith('-'));
const booleanText = fc
  .constantFrom(['true', true], ['1', true], ['t', true], ['false', false], ['0', false], ['f', false])
  .chain(([text, value]) =>
    fc
      .array(fc.boolean(), { minLength: text.length, maxLength: text.length })
      .map((upper) => [[...text].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''), value] as const),
  );

/** One flag written in one of the forms cosign accepts: its tokens, and the value it sets. */
type Written = { name: string; tokens: string[]; value: string | boolean };
const written: fc.Arbitrary<Written> = fc.oneof(
  fc.tuple(fc.constantFrom('key', 'jobs', 'annotations'), fc.string({ maxLength: 10 })).map(([name, v]) => ({
    name,
    tokens: [`--${name}=${v}`],
    value: v,
  })),
  fc.tuple(fc.constantFrom('key', 'jobs', 'annotations'), separateValue).map(([name, v]) => ({
    name,
    tokens: [`--${name}`, v],
    value: v,
  })),
  fc.tuple(fc.constantFrom('jobs', 'annotations'), separateValue, fc.boolean()).map(([name, v, joined]) => {
    const short = `-${FLAGS[name]!.short}`;
    return { name, tokens: joined && v !== '' ? [`${short}${v}`] : [short, v], value: v };
  }),
  fc.constantFrom('yes', 'recursive').chain((name) =>
    fc.oneof(
      fc.constant<Written>({ name, tokens: [`--${name}`], value: true }),
      fc.constant<Written>({ name, tokens: [`-${FLAGS[name]!.short}`], value: true }),
      booleanText.map(([text, value]): Written => ({ name, tokens: [`--${name}=${text}`], value })),
    ),
  ),
);

describe('parseFlags, on any argv', () => {
  it('parses into the declared flags alone, or refuses the line as USAGE', () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 12 }), (argv) => {
        let parsed: ReturnType<typeof parse>;
        try {
          parsed = parse(argv);
        } catch (error) {
          expect(CosignkitError.isInstance(error) && error.code, String(error)).toBe('USAGE');
          return;
        }
        for (const [name, value] of Object.entries(parsed.values)) {
          expect(Object.hasOwn(FLAGS, name), name).toBe(true);
          const spec = FLAGS[name]!;
          if (spec.type === 'boolean') expect(typeof value).toBe('boolean');
          else if (spec.multiple) expect((value as string[]).every((v) => typeof v === 'string')).toBe(true);
          else expect(typeof value).toBe('string');
        }
        // No flag leaks into the values through the prototype, and files are argv's own tokens, in order.
        expect(Object.getPrototypeOf(parsed.values)).toBe(Object.prototype);
        let from = 0;
        for (const file of parsed.positionals) {
          from = argv.indexOf(file, from) + 1;
          expect(from, file).toBeGreaterThan(0);
        }
      }),
      fuzzParams(3_000),
    );
  });

  it('reads back every line written in cosign grammar: the last value of a flag, every value of a multiple one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(written, positional), { maxLength: 10 }),
        fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
        (parts, afterSeparator) => {
          const argv = parts.flatMap((part) => (typeof part === 'string' ? [part] : part.tokens));
          const expected: Record<string, string | boolean | string[]> = {};
          for (const part of parts) {
            if (typeof part === 'string') continue;
            expected[part.name] = FLAGS[part.name]!.multiple
              ? [...((expected[part.name] as string[] | undefined) ?? []), part.value as string]
              : part.value;
          }
          const files = parts.filter((part): part is string => typeof part === 'string');
          const parsed = parse([...argv, '--', ...afterSeparator]);
          expect(parsed).toEqual({ values: expected, positionals: [...files, ...afterSeparator] });
        },
      ),
      fuzzParams(3_000),
    );
  });
});
