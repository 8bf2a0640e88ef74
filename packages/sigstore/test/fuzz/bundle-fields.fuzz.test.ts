import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzParams } from '../../../core/test/helpers/fuzz.js';
import { bundleFieldProblem } from '../../src/verify/bundle-fields.js';
import { CASES, fixture } from '../helpers.js';

// Property test of the protojson field walk (bundle-fields.ts): it reads hostile JSON before anything else
// does, so on any JSON it answers without throwing, in one bounded line free of raw control characters, and
// it refuses a real bundle as soon as any object in it gains a field protojson does not know.
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const bundles = CASES.slice(0, 4).map((c) => JSON.parse(fixture(c.bundle).toString('utf8')) as Record<string, unknown>);

function objectsOf(value: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(value)) for (const x of value) objectsOf(x, out);
  else if (value && typeof value === 'object') {
    out.push(value as Record<string, unknown>);
    for (const x of Object.values(value)) objectsOf(x, out);
  }
  return out;
}

describe('bundleFieldProblem', () => {
  it('answers any JSON object with undefined or one clean, bounded line', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 })), (json) => {
        const problem = bundleFieldProblem(json);
        if (problem === undefined) return;
        expect(RAW_CONTROL.test(problem)).toBe(false);
        expect(problem.length).toBeLessThan(400);
      }),
      fuzzParams(500),
    );
  });

  it('accepts the real bundles and refuses each with an unknown field added to any of its objects', () => {
    for (const bundle of bundles) expect(bundleFieldProblem(bundle)).toBeUndefined();
    fc.assert(
      fc.property(
        fc.nat({ max: bundles.length - 1 }),
        fc.nat(),
        fc.string({ minLength: 1 }),
        fc.jsonValue({ maxDepth: 2 }),
        (which, where, name, value) => {
          const copy = structuredClone(bundles[which]!);
          const objects = objectsOf(copy);
          const target = objects[where % objects.length]!;
          target[`unknown_${name}`] = value;
          expect(bundleFieldProblem(copy)).toMatch(/unknown field/);
        },
      ),
      fuzzParams(300),
    );
  });
});
