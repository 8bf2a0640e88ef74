import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '@cosignkit/core';
import {
  arbitraryText,
  fuzzParams,
  hostileText,
  mutatedBytes,
  mutatedJson,
  mutatedText,
  settles,
} from '../../../core/test/helpers/fuzz.js';
import {
  appendToLog,
  evaluatePolicy,
  envelopeFromText,
  headPath,
  IN_TOTO_PAYLOAD_TYPE,
  pae,
  parseDsseBundle,
  parseEnvelope,
  parseKeyMap,
  readStatement,
  serializeDsseBundle,
  serializeEnvelope,
  trustedKey,
  verifyEnvelope,
  verifyLog,
  type Envelope,
} from '../../src/index.js';
import { checkEntryLine, GENESIS_HASH, makeEntry } from '../../src/log/log-entry.js';
import { FIXTURES } from '../helpers.js';

// Property tests (issue 11) of every DSSE-side parser: envelopes (bare, base64, in a bundle, legacy bundle),
// in-toto statements, key maps, policies over statements, and the hash-chained log (its lines, verify-log and
// the append path). Mutations start from real vectors (the DSSE spec vector, a public-good bundle, sigstore-js'
// statement). Each input parses or is refused with a stable code and a clean one-line message, fast; no
// mutation of a signed envelope verifies with a different payload; no changed log verifies as intact; an
// append refused on a mutated log leaves the file byte for byte as it was.
const ENVELOPE_CODES = new Set<ErrorCode>(['ENVELOPE_MALFORMED', 'BUNDLE_MALFORMED']);
const KEY_MAP_CODES = new Set<ErrorCode>(['KEY_MALFORMED', 'ALGORITHM_UNSUPPORTED']);
const LOG_CODES = new Set<ErrorCode>(['VERIFICATION_FAILED', 'ENVELOPE_MALFORMED']);

const specEnvelope = readFileSync(join(FIXTURES, 'spec-vector.envelope.json'), 'utf8');
const specKey = trustedKey(readFileSync(join(FIXTURES, 'spec-vector.pub'), 'utf8'));
const statementText = readFileSync(join(FIXTURES, 'npm-statement.json'), 'utf8');
const publicGoodBundle = readFileSync(join(FIXTURES, 'bundleV03-intoto.sigstore'), 'utf8');

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ourKey = trustedKey(createPublicKey(privateKey), 'ours', true);
function signed(payloadType: string, payload: Buffer): Envelope {
  return {
    payloadType,
    payload,
    signatures: [{ keyid: '', sig: sign('sha256', pae(payloadType, payload), privateKey) }],
  };
}
const statementEnvelope = signed(IN_TOTO_PAYLOAD_TYPE, Buffer.from(statementText));

let dir: string;
let counter = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cosignkit-dsse-fuzz-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('envelope parsers', () => {
  const original = parseEnvelope(specEnvelope);

  it('parseEnvelope: mutated spec vector parses or is ENVELOPE_MALFORMED; a verifying one has the same payload', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedJson(specEnvelope), arbitraryText), async (text) => {
        const { value } = await settles(ENVELOPE_CODES, () => parseEnvelope(text));
        if (value && verifyEnvelope(value, [specKey]).allValid) {
          expect(value.payloadType).toBe(original.payloadType);
          expect(Buffer.from(value.payload).equals(Buffer.from(original.payload))).toBe(true);
        }
      }),
      fuzzParams(400),
    );
  });

  it('envelopeFromText: every form (bare, base64, bundle, legacy) of a signed statement, mutated', async () => {
    const bare = serializeEnvelope(statementEnvelope);
    const forms = [
      bare,
      serializeDsseBundle(statementEnvelope, publicKey),
      JSON.stringify({ base64Signature: Buffer.from(bare).toString('base64'), cert: 'eA==' }),
      publicGoodBundle,
    ];
    const base64 = Buffer.from(bare).toString('base64');
    await fc.assert(
      fc.asyncProperty(fc.oneof(...forms.map(mutatedJson), mutatedText(base64), arbitraryText), async (text) => {
        const { value } = await settles(ENVELOPE_CODES, () => envelopeFromText(Buffer.from(text)));
        if (value && verifyEnvelope(value.envelope, [ourKey]).allValid) {
          expect(value.envelope.payloadType).toBe(IN_TOTO_PAYLOAD_TYPE);
          expect(Buffer.from(value.envelope.payload).toString()).toBe(statementText);
        }
      }),
      fuzzParams(400),
    );
  });

  it('parseDsseBundle: mutated public-good and cosignkit bundles parse or are BUNDLE_MALFORMED', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(mutatedJson(publicGoodBundle), mutatedJson(serializeDsseBundle(statementEnvelope, publicKey))),
        async (text) => {
          await settles(new Set<ErrorCode>(['BUNDLE_MALFORMED']), () => parseDsseBundle(text));
        },
      ),
      fuzzParams(300),
    );
  });

  it('an envelope with a non-string signature is ENVELOPE_MALFORMED (not a Node TypeError)', async () => {
    for (const sig of [123, null, {}, [], true, '', '%%%']) {
      const text = JSON.stringify({ payloadType: 'x', payload: 'eA==', signatures: [{ sig }] });
      expect((await settles(ENVELOPE_CODES, () => parseEnvelope(text))).code).toBe('ENVELOPE_MALFORMED');
      const bundle = JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        dsseEnvelope: { payloadType: 'x', payload: 'eA==', signatures: [{ sig }] },
      });
      expect((await settles(ENVELOPE_CODES, () => parseDsseBundle(bundle))).code).toBe('BUNDLE_MALFORMED');
    }
  });
});

describe('in-toto statements and policies', () => {
  it('readStatement: mutated statements parse or are ENVELOPE_MALFORMED', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedJson(statementText), arbitraryText), async (text) => {
        await settles(new Set<ErrorCode>(['ENVELOPE_MALFORMED']), () => readStatement(text));
      }),
      fuzzParams(400),
    );
  });

  it('evaluatePolicy: rules over a mutated statement are met, unmet or ENVELOPE_MALFORMED, with clean text', async () => {
    const withTime = JSON.stringify({
      ...JSON.parse(statementText),
      predicate: { issued_at: '2026-11-29T23:00:00Z', name: 'x' },
    });
    await fc.assert(
      fc.asyncProperty(
        mutatedJson(withTime),
        fc.oneof(fc.constant(IN_TOTO_PAYLOAD_TYPE), hostileText),
        async (text, type) => {
          const envelope = signed(type, Buffer.from(text));
          const verification = verifyEnvelope(envelope, [ourKey]);
          const { value } = await settles(new Set<ErrorCode>(['ENVELOPE_MALFORMED']), () =>
            evaluatePolicy(envelope, verification, {
              requireSubject: { name: 'pkg:npm/sigstore@1.0.0' },
              requirePredicateType: 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1',
              maxAgeMs: 3_600_000,
              now: new Date('2026-11-29T23:30:00Z'),
            }),
          );
          for (const rule of value?.unmet ?? []) expect(rule.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
        },
      ),
      fuzzParams(300),
    );
  });
});

describe('key maps', () => {
  const pem = readFileSync(join(FIXTURES, 'spec-vector.pub'), 'utf8');
  const map = JSON.stringify({ alice: pem, bob: ourKey.publicKey.export({ type: 'spki', format: 'pem' }) });
  it('parseKeyMap: mutated maps parse or are KEY_MALFORMED/ALGORITHM_UNSUPPORTED with clean messages', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutatedJson(map),
          arbitraryText,
          hostileText.map((k) => JSON.stringify({ [k]: 'x' })),
        ),
        async (text) => {
          await settles(KEY_MAP_CODES, () => parseKeyMap(text, 'keys.json'));
        },
      ),
      fuzzParams(300),
    );
  });
});

describe('the hash-chained log', () => {
  const lines: string[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= 3; seq++) {
    const { entry, line } = makeEntry({
      seq,
      time: `2026-11-29T23:0${seq}:00Z`,
      envelope: `sha256:${String(seq).repeat(64)}`,
      subjects: [{ name: `file-${seq}`, digest: { sha256: 'a'.repeat(64) } }],
      prev,
    });
    lines.push(line);
    prev = entry.hash;
  }
  const logText = `${lines.join('\n')}\n`;
  const head = `${JSON.stringify({ seq: 3, hash: prev })}\n`;

  it('checkEntryLine never throws, and accepts only the lines as written', () => {
    fc.assert(
      fc.property(fc.oneof(...lines.map(mutatedText), arbitraryText), (line) => {
        const result = checkEntryLine(line);
        if (result) expect(lines).toContain(line);
      }),
      fuzzParams(500),
    );
  });

  it('verifyLog: a mutated log is reported, never thrown on, and never intact unless unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutatedText(logText),
          mutatedBytes(Buffer.from(logText)).map((b) => b.toString('latin1')),
        ),
        async (text) => {
          const path = join(dir, `log-${counter++}`);
          writeFileSync(path, text, 'latin1');
          writeFileSync(headPath(path), head);
          const { value } = await settles(new Set<ErrorCode>(), () => verifyLog(path));
          if (value!.intact) expect(text).toBe(logText);
          for (const problem of value!.problems) expect(problem.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
          rmSync(path);
          rmSync(headPath(path));
        },
      ),
      fuzzParams(300),
    );
  });

  // verifyLog reads 64 KiB at a time (src/log/log-verify.ts): a line may straddle one chunk edge or several,
  // and a multi-byte character may be cut by one.
  it('verifyLog: long lines across its read chunks verify as written, and one changed byte anywhere does not', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 200_000 }), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        async (nameLengths, at) => {
          let previous = GENESIS_HASH;
          const longLines = nameLengths.map((length, i) => {
            const { entry, line } = makeEntry({
              seq: i + 1,
              time: '2026-11-30T12:00:00Z',
              envelope: `sha256:${'e'.repeat(64)}`,
              subjects: [
                { name: `é${'€'.repeat(length % 5)}${'x'.repeat(length)}😀`, digest: { sha256: 'a'.repeat(64) } },
              ],
              prev: previous,
            });
            previous = entry.hash;
            return line;
          });
          const bytes = Buffer.from(`${longLines.join('\n')}\n`);
          const path = join(dir, `long-${counter++}`);
          writeFileSync(path, bytes);
          writeFileSync(headPath(path), `${JSON.stringify({ seq: longLines.length, hash: previous })}\n`);
          expect(await verifyLog(path)).toMatchObject({ intact: true, entries: longLines.length });
          const flipAt = at % bytes.length;
          bytes[flipAt] = bytes[flipAt]! ^ 0x01;
          writeFileSync(path, bytes);
          const { value } = await settles(new Set<ErrorCode>(), () => verifyLog(path));
          expect(value!.intact).toBe(false);
          rmSync(path);
          rmSync(headPath(path));
        },
      ),
      fuzzParams(40),
    );
  });

  it('append: on a mutated log it appends or refuses with VERIFICATION_FAILED, and a refusal changes nothing', async () => {
    const envelope = signed('text/plain', Buffer.from('x'));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutatedText(logText),
          mutatedText(head).map((h) => ({ h })),
        ),
        async (mutation) => {
          const path = join(dir, `append-${counter++}`);
          const [log, headText] = typeof mutation === 'string' ? [mutation, head] : [logText, mutation.h];
          writeFileSync(path, log);
          writeFileSync(headPath(path), headText);
          const { code } = await settles(LOG_CODES, () => appendToLog(path, envelope));
          const after = readFileSync(path, 'utf8');
          if (code) {
            expect(after).toBe(log);
          } else {
            // Never drop a line that is a complete entry (critical 1): every one is still there, and the log
            // ends with a complete line.
            const kept = after.split('\n');
            for (const line of log.split('\n')) if (checkEntryLine(line)) expect(kept).toContain(line);
            expect(after.endsWith('\n')).toBe(true);
          }
          rmSync(path, { force: true });
          rmSync(headPath(path), { force: true });
        },
      ),
      fuzzParams(120),
    );
  });
});
