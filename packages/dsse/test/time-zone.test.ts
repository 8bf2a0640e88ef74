import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileKeyManager } from '@cosignkit/key-file';
import { buildStatement, evaluatePolicy, parseKeyMap, signEnvelope, verifyEnvelope, type DssePolicy, type Envelope } from '../src/index.js';
import { parseRfc3339 } from '../src/rfc3339.js';
import { fileKeys, tempDir } from './helpers.js';

// Issue 11: `--max-age` read an offset-less issued_at as local time, so TZ=Pacific/Pago_Pago (UTC-11) let an
// 11-hour-old statement pass `--max-age 1h`. Each check runs under several zones, switched in-process (Node
// re-reads TZ when it changes); each zone proves it took effect on `new Date()` before the checks run.
const ZONES = ['Pacific/Pago_Pago', 'Pacific/Kiritimati', 'Asia/Kathmandu', 'UTC'];
const now = new Date('2026-06-01T00:00:00Z');
const elevenHoursAgo = '2026-05-31T13:00:00';

let cleanup: () => Promise<void>;
let manager: FileKeyManager;
let envelope: Envelope;
let keyMap: ReturnType<typeof parseKeyMap>;
const savedTz = process.env.TZ;

beforeAll(async () => {
  const t = await tempDir();
  cleanup = t.cleanup;
  const { manager: m, keys } = await fileKeys(t.dir, ['ed25519']);
  manager = m;
  keyMap = parseKeyMap(JSON.stringify({ alice: keys.ed25519!.pem }));
  const statement = buildStatement({
    subjects: [{ name: 'app.tgz', digest: { sha256: 'a'.repeat(64) } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      local: elevenHoursAgo, // no offset
      z: `${elevenHoursAgo}Z`,
      lowerZ: `${elevenHoursAgo.replace('T', 't')}.250z`,
      pagoPago: '2026-05-31T02:00:00-11:00', // the same instant, written with an offset
      kathmandu: '2026-05-31T18:45:00.000000001+05:45',
      unix: Date.parse(`${elevenHoursAgo}Z`) / 1000,
      dateOnly: '2026-05-31',
      space: '2026-05-31 13:00:00Z',
      notATime: true,
    },
  });
  envelope = await signEnvelope('application/vnd.in-toto+json', Buffer.from(JSON.stringify(statement)), [{ manager, keyId: keys.ed25519!.keyId, keyid: 'alice' }]);
});
afterAll(async () => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
  await manager?.close();
  await cleanup?.();
});

function unmet(policy: DssePolicy): string[] {
  return evaluatePolicy(envelope, verifyEnvelope(envelope, keyMap), { now, ...policy }).unmet.map((u) => u.rule);
}

describe.each(ZONES)('timestamps under TZ=%s', (zone) => {
  beforeAll(() => {
    process.env.TZ = zone;
    const offsetMinutes = (Date.parse(`${elevenHoursAgo}Z`) - new Date(elevenHoursAgo).getTime()) / 60_000;
    expect(offsetMinutes).toBe({ 'Pacific/Pago_Pago': -660, 'Pacific/Kiritimati': 840, 'Asia/Kathmandu': 345, UTC: 0 }[zone]);
  });

  it('refuses a timestamp without an offset as malformed input, one line', () => {
    for (const field of ['/local', '/dateOnly', '/space', '/notATime']) {
      for (const maxAge of [3_600_000, 365 * 86_400_000]) {
        let error: unknown;
        try {
          unmet({ maxAgeMs: maxAge, timeField: field });
        } catch (e) {
          error = e;
        }
        expect(error, field).toMatchObject({ code: 'ENVELOPE_MALFORMED' });
        expect((error as Error).message).toMatch(/is not an RFC 3339 time with an offset/);
        expect((error as Error).message).not.toContain('\n');
      }
    }
  });

  it('reads a time with Z, an offset or Unix seconds the same in every zone: 11 hours old', () => {
    for (const field of ['/z', '/lowerZ', '/pagoPago', '/kathmandu', '/unix']) {
      expect(unmet({ maxAgeMs: 3_600_000, timeField: field }), field).toEqual(['max-age']);
      expect(unmet({ maxAgeMs: 10.9 * 3_600_000, timeField: field }), field).toEqual(['max-age']);
      expect(unmet({ maxAgeMs: 11.1 * 3_600_000, timeField: field }), field).toEqual([]);
    }
    const [message] = evaluatePolicy(envelope, verifyEnvelope(envelope, keyMap), { now, maxAgeMs: 3_600_000, timeField: '/pagoPago' }).unmet;
    expect(message!.message).toBe('the statement is 11h old (/pagoPago 2026-05-31T13:00:00.000Z), more than the allowed 1h');
  });

  it('parses RFC 3339 independently of the zone', () => {
    expect(parseRfc3339('2026-05-31T13:00:00Z')).toBe(Date.UTC(2026, 4, 31, 13));
    expect(parseRfc3339('2026-05-31T02:00:00-11:00')).toBe(Date.UTC(2026, 4, 31, 13));
    expect(parseRfc3339('2026-05-31T13:00:00.123456789+00:00')).toBe(Date.UTC(2026, 4, 31, 13, 0, 0, 123));
    expect(parseRfc3339('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(parseRfc3339('0001-01-01T00:00:00Z')).toBe(-62135596800000);
    for (const bad of ['2026-05-31T13:00:00', '2026-05-31T13:00:00+0100', '2026-05-31T13:00Z', '2026-05-31', '2026-05-31 13:00:00Z',
      '2026-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-05-31T24:00:00Z', '2026-05-31T23:59:60Z', '2026-05-31T13:00:00+24:00',
      '2026-05-31T13:00:00.Z', ' 2026-05-31T13:00:00Z', '2026-05-31T13:00:00Z\n', '+002026-05-31T13:00:00Z']) {
      expect(parseRfc3339(bad), bad).toBeUndefined();
    }
  });
});
