import fc from 'fast-check';
import { expect } from 'vitest';
import { CosignkitError, type ErrorCode } from '../../src/index.js';

/**
 * Shared pieces of the parsers' property tests (test/fuzz/*.fuzz.test.ts in each package): a fixed seed so a
 * failure reproduces, a time budget per property so the whole harness stays well under 30 s on 2 cores, and
 * mutators that start from real vectors (cosign's key files, the DSSE spec vector, public-good bundles) so
 * most runs get past the first check and reach the deeper parsing code.
 */
export const FUZZ_SEED = 20_261_130;

/** Per-property wall-clock budget: fast-check stops early (successfully) once it is spent. */
export const FUZZ_BUDGET_MS = 2000;

/** No single input may take longer than this to parse or refuse (generous: scrypt runs on a loaded 2-core CI box). */
export const FUZZ_RUN_LIMIT_MS = 5000;

/** The whole test process's resident memory must stay under this after every input. */
export const FUZZ_RSS_LIMIT_BYTES = 1024 * 1024 * 1024;

export function fuzzParams(numRuns: number, budgetMs = FUZZ_BUDGET_MS): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns, interruptAfterTimeLimit: budgetMs, endOnFailure: true };
}

/** What escapeForTerminal rewrites: C0, DEL, C1, bidi controls and line/paragraph separators. */
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

export interface Outcome<T> {
  value?: T;
  code?: ErrorCode;
}

/**
 * Runs `work` on one fuzzed input. It must return, or throw a CosignkitError whose code is in `allowed`, whose
 * message is one line with no raw control character and no stack frame, within FUZZ_RUN_LIMIT_MS and with the
 * process under FUZZ_RSS_LIMIT_BYTES. Anything
 * else (a TypeError, a RangeError, Node's own messages) fails the property with the error as its cause.
 */
export async function settles<T>(allowed: ReadonlySet<ErrorCode>, work: () => T | Promise<T>): Promise<Outcome<T>> {
  const started = performance.now();
  try {
    return { value: await work() };
  } catch (error) {
    if (!CosignkitError.isInstance(error)) {
      throw new Error(`not a CosignkitError: ${(error as Error)?.name}: ${(error as Error)?.message}`, {
        cause: error,
      });
    }
    if (!allowed.has(error.code)) throw new Error(`unexpected code ${error.code}: ${error.message}`, { cause: error });
    if (RAW_CONTROL.test(error.message)) {
      throw new Error(`raw control character in message: ${JSON.stringify(error.message)}`, { cause: error });
    }
    expect(error.message).not.toMatch(/\n\s+at /);
    expect(error.message.length).toBeGreaterThan(0);
    return { code: error.code };
  } finally {
    expect(performance.now() - started).toBeLessThan(FUZZ_RUN_LIMIT_MS);
    // Bounded memory: no input may make a parser hold more than a fraction of what the process may use.
    expect(process.memoryUsage.rss()).toBeLessThan(FUZZ_RSS_LIMIT_BYTES);
  }
}

/** Strings a hostile file likes to hold: terminal escapes, separators, huge numbers, prototype keys. */
export const hostileText = fc.constantFrom(
  '\u001b[2J\u001b[1;1HVerified OK\n',
  '\r\n',
  '\u009b31m',
  '\u202e',
  '\u2028',
  '\u0000',
  '__proto__',
  'constructor',
  '-----BEGIN PUBLIC KEY-----',
  '=',
  '',
  ' ',
  '\\u0000',
);

/** Any JSON value, plus the hostile strings and numbers above, to drop into a document's structure. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  hostileText,
  fc.constantFrom(-1, 0, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2, null, true, [], {}, [null], { $b64: 'AA' }),
  fc.string({ unit: 'binary', maxLength: 24 }),
);

/**
 * Mutations of a JSON document: one subtree (or the whole) replaced by a hostile value, a key removed or
 * added, a character-level edit (insert/delete at any offset), or a truncation.
 */
export function mutatedJson(text: string): fc.Arbitrary<string> {
  const root = JSON.parse(text) as unknown;
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]): void => {
    paths.push(path);
    if (Array.isArray(v)) for (const [i, x] of v.entries()) walk(x, [...path, i]);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(root, []);
  const at = (path: (string | number)[]) => {
    const copy = JSON.parse(text) as Record<string | number, unknown>;
    let parent: Record<string | number, unknown> | undefined;
    let node: unknown = copy;
    for (const key of path) {
      parent = node as Record<string | number, unknown>;
      node = parent[key];
    }
    return { copy, parent, key: path[path.length - 1] };
  };
  const replaced = fc.tuple(fc.constantFrom(...paths), hostileValue).map(([path, value]) => {
    if (path.length === 0) return JSON.stringify(value);
    const { copy, parent, key } = at(path);
    parent![key!] = value;
    return JSON.stringify(copy);
  });
  const removed = fc.constantFrom(...paths.filter((p) => p.length > 0)).map((path) => {
    const { copy, parent, key } = at(path);
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent![key!];
    return JSON.stringify(copy);
  });
  const added = fc.tuple(fc.constantFrom(...paths), fc.string({ maxLength: 12 }), hostileValue).map(([path, k, v]) => {
    const { copy, parent, key } = at(path);
    const node = path.length === 0 ? copy : parent![key!];
    if (node && typeof node === 'object' && !Array.isArray(node)) (node as Record<string, unknown>)[k] = v;
    else if (Array.isArray(node)) node.push(v);
    return JSON.stringify(copy);
  });
  return fc.oneof(
    { arbitrary: replaced, weight: 4 },
    { arbitrary: removed, weight: 1 },
    { arbitrary: added, weight: 1 },
    { arbitrary: mutatedText(text), weight: 3 },
  );
}

/** Character-level mutations of a text: insert/delete/replace at any offset, truncate, duplicate a slice. */
export function mutatedText(text: string): fc.Arbitrary<string> {
  const edit = fc
    .tuple(
      fc.nat({ max: text.length }),
      fc.nat({ max: 8 }),
      fc.oneof(fc.string({ maxLength: 8 }), hostileText, fc.string({ unit: 'binary', maxLength: 4 })),
    )
    .map(([at, remove, insert]) => text.slice(0, at) + insert + text.slice(at + remove));
  const truncated = fc.nat({ max: text.length }).map((n) => text.slice(0, n));
  const duplicated = fc
    .tuple(fc.nat({ max: text.length }), fc.nat({ max: text.length }))
    .map(([a, b]) => text.slice(0, Math.max(a, b)) + text.slice(Math.min(a, b)));
  return fc.oneof({ arbitrary: edit, weight: 4 }, truncated, duplicated);
}

/** Byte-level mutations: flip bits, overwrite, insert, delete, truncate. */
export function mutatedBytes(bytes: Uint8Array): fc.Arbitrary<Buffer> {
  const source = Buffer.from(bytes);
  const flip = fc
    .tuple(fc.nat({ max: Math.max(0, source.length - 1) }), fc.integer({ min: 1, max: 255 }))
    .map(([at, mask]) => {
      const copy = Buffer.from(source);
      if (copy.length > 0) copy[at] = copy[at]! ^ mask;
      return copy;
    });
  const splice = fc
    .tuple(fc.nat({ max: source.length }), fc.nat({ max: 8 }), fc.uint8Array({ maxLength: 8 }))
    .map(([at, remove, insert]) =>
      Buffer.concat([source.subarray(0, at), Buffer.from(insert), source.subarray(at + remove)]),
    );
  const truncated = fc.nat({ max: source.length }).map((n) => Buffer.from(source.subarray(0, n)));
  return fc.oneof({ arbitrary: flip, weight: 3 }, { arbitrary: splice, weight: 2 }, truncated);
}

/** Arbitrary input with no relation to any vector: text, binary, JSON. */
export const arbitraryText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.json({ maxDepth: 4 }),
  hostileText,
);
