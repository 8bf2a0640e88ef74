import { parseDuration } from '@cosignkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileKeyManager } from '@cosignkit/key-file';
import {
  buildStatement,
  evaluatePolicy,
  parseKeyMap,
  parseSubjectRequirement,
  signEnvelope,
  verifyEnvelope,
  type DssePolicy,
  type Envelope,
} from '../src/index.js';
import { fileKeys, tempDir } from './helpers.js';

let cleanup: () => Promise<void>;
let manager: FileKeyManager;
let keys: Record<string, { keyId: string; fingerprint: string; pem: string }>;
let envelope: Envelope;
const now = new Date('2026-06-01T00:00:00Z');
const digest = 'a'.repeat(64);

beforeAll(async () => {
  const t = await tempDir();
  cleanup = t.cleanup;
  ({ manager, keys } = await fileKeys(t.dir, ['ecdsa-p256-sha256', 'ed25519']));
  const statement = buildStatement({
    subjects: [{ name: 'app.tgz', digest: { sha256: digest } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: { issued_at: '2026-05-30T00:00:00Z', meta: { t: 1780000000 } },
  });
  envelope = await signEnvelope('application/vnd.in-toto+json', Buffer.from(JSON.stringify(statement)), [
    { manager, keyId: keys['ecdsa-p256-sha256']!.keyId, keyid: 'alice' },
    { manager, keyId: keys.ed25519!.keyId, keyid: 'bob' },
  ]);
});
afterAll(async () => {
  await manager.close();
  await cleanup();
});

function unmet(policy: DssePolicy, env = envelope): string[] {
  const map = parseKeyMap(JSON.stringify({ alice: keys['ecdsa-p256-sha256']!.pem, bob: keys.ed25519!.pem }));
  return evaluatePolicy(env, verifyEnvelope(env, map), { now, ...policy }).unmet.map((u) => u.rule);
}

describe('policy rules, each passing and failing', () => {
  it('no rules: every signature must verify', () => {
    expect(unmet({})).toEqual([]);
    const bad = { ...envelope, signatures: [envelope.signatures[0]!, { keyid: 'bob', sig: new Uint8Array(64) }] };
    expect(unmet({}, bad)).toEqual(['signatures']);
  });
  it('--require-keyid', () => {
    expect(unmet({ requireKeyid: 'alice' })).toEqual([]);
    expect(unmet({ requireKeyid: 'carol' })).toEqual(['require-keyid']);
  });
  it('--require-signers (one bad signature fails it)', () => {
    expect(unmet({ requireSigners: ['alice', 'bob'] })).toEqual([]);
    const bad = { ...envelope, signatures: [envelope.signatures[0]!, { keyid: 'bob', sig: new Uint8Array(64) }] };
    expect(unmet({ requireSigners: ['alice', 'bob'] }, bad)).toEqual(['signatures', 'require-signers']);
  });
  it('--require-subject with and without digest', () => {
    expect(unmet({ requireSubject: parseSubjectRequirement('app.tgz') })).toEqual([]);
    expect(unmet({ requireSubject: parseSubjectRequirement(`app.tgz@sha256:${digest.toUpperCase()}`) })).toEqual([]);
    expect(unmet({ requireSubject: parseSubjectRequirement('other.tgz') })).toEqual(['require-subject']);
    expect(unmet({ requireSubject: parseSubjectRequirement(`app.tgz@sha256:${'b'.repeat(64)}`) })).toEqual([
      'require-subject',
    ]);
    expect(parseSubjectRequirement('pkg:npm/a@1.0')).toEqual({ name: 'pkg:npm/a@1.0' });
  });
  it('--require-predicate-type (URI or cosign name)', () => {
    expect(unmet({ requirePredicateType: 'https://slsa.dev/provenance/v1' })).toEqual([]);
    expect(unmet({ requirePredicateType: 'slsaprovenance1' })).toEqual([]);
    expect(unmet({ requirePredicateType: 'slsaprovenance' })).toEqual(['require-predicate-type']);
  });
  it('--max-age with --time-field', () => {
    expect(unmet({ maxAgeMs: parseDuration('7d') })).toEqual([]);
    expect(unmet({ maxAgeMs: parseDuration('1d') })).toEqual(['max-age']);
    expect(unmet({ maxAgeMs: parseDuration('2w'), timeField: '/meta/t' })).toEqual([]);
    expect(unmet({ maxAgeMs: parseDuration('7d'), timeField: '/missing' })).toEqual(['max-age']);
    expect(unmet({ maxAgeMs: parseDuration('7d'), now: new Date('2026-05-01T00:00:00Z') })).toEqual(['max-age']); // future
  });
  it('statement rules on a non-in-toto payload are malformed input', async () => {
    const other = await signEnvelope('text/plain', Buffer.from('hi'), [
      { manager, keyId: keys.ed25519!.keyId, keyid: 'bob' },
    ]);
    expect(() => unmet({ requireSubject: { name: 'x' } }, other)).toThrow(
      expect.objectContaining({ code: 'ENVELOPE_MALFORMED' }),
    );
    expect(unmet({ requireKeyid: 'bob' }, other)).toEqual([]);
  });
  it('parses durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1d12h')).toBe(36 * 3_600_000);
    expect(() => parseDuration('7 days')).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});
