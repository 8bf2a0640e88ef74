import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import type { Subject } from '@cosignkit/dsse';
import { StatementSigner } from '../src/statement-signer.js';

describe('StatementSigner.canonicalPayload (the service splices a predicate it canonicalized once)', () => {
  const subjects: Subject[] = [
    { name: 'b.tgz', digest: { sha512: 'f'.repeat(128), sha256: 'a'.repeat(64) } },
    { name: 'ä/€ \u2028"x"', digest: { sha256: 'b'.repeat(64) } },
  ];
  const predicates: unknown[] = [
    null,
    {},
    [],
    'text',
    1e21,
    { z: 1, a: [true, false, null, -0.5], é: { '\u0000': 'nul', B: 'up', a: 'low' }, predicateType: 'inner' },
  ];
  for (const predicate of predicates) {
    it(`gives payload()'s bytes for ${JSON.stringify(predicate)}`, () => {
      const spliced = StatementSigner.canonicalPayload(
        subjects,
        'https://slsa.dev/provenance/v1',
        canonicalize(predicate)!,
      );
      const whole = StatementSigner.payload(subjects, 'https://slsa.dev/provenance/v1', predicate);
      expect(spliced.toString('utf8')).toBe(whole.toString('utf8'));
    });
  }
});
