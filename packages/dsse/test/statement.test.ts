import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildStatement,
  cosignStatementPayload,
  parseEnvelope,
  readStatement,
  resolvePredicateType,
  STATEMENT_V01,
  STATEMENT_V1,
  subjectsFromFiles,
} from '../src/index.js';
import { cosignPath, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup());

describe('in-toto statements', () => {
  it('builds a v1 statement with sha256 and sha512 subjects streamed from files', async () => {
    const file = join(dir, 'artifact.bin');
    const content = Buffer.alloc(3 * 1024 * 1024 + 7, 0x5a);
    writeFileSync(file, content);
    const subjects = await subjectsFromFiles([file]);
    expect(subjects).toEqual([
      {
        name: 'artifact.bin',
        digest: {
          sha256: createHash('sha256').update(content).digest('hex'),
          sha512: createHash('sha512').update(content).digest('hex'),
        },
      },
    ]);
    const statement = buildStatement({ subjects, predicateType: 'https://example.com/p/v1', predicate: { a: 1 } });
    expect(Object.keys(statement)).toEqual(['_type', 'predicateType', 'subject', 'predicate']);
    expect(statement._type).toBe(STATEMENT_V1);
    expect(readStatement(JSON.stringify(statement))).toEqual(statement);
  });

  it('reads v0.1 statements and refuses other shapes', () => {
    const v01 = { _type: STATEMENT_V01, predicateType: 'x:y', subject: [{ name: 'f', digest: { sha256: 'ab' } }] };
    expect(readStatement(JSON.stringify(v01))._type).toBe(STATEMENT_V01);
    for (const bad of [
      { ...v01, _type: 'https://in-toto.io/Statement/v9' },
      { ...v01, subject: [] },
      { ...v01, subject: [{ name: 'f' }] },
      { ...v01, predicateType: 3 },
      'not an object',
    ]) {
      expect(() => readStatement(JSON.stringify(bad))).toThrow(expect.objectContaining({ code: 'ENVELOPE_MALFORMED' }));
    }
  });

  it('maps cosign --type names and accepts URIs', () => {
    expect(resolvePredicateType('slsaprovenance')).toBe('https://slsa.dev/provenance/v0.2');
    expect(resolvePredicateType('slsaprovenance1')).toBe('https://slsa.dev/provenance/v1');
    expect(resolvePredicateType('custom')).toBe('https://cosign.sigstore.dev/attestation/v1');
    expect(resolvePredicateType('openvex')).toBe('https://openvex.dev/ns');
    expect(resolvePredicateType('https://example.com/x')).toBe('https://example.com/x');
    expect(() => resolvePredicateType('not a type')).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('wraps custom predicates as cosign does', () => {
    const payload = cosignStatementPayload({
      type: 'custom',
      predicate: Buffer.from('free <text>\n'),
      now: new Date('2026-01-02T03:04:05.678Z'),
      subjects: [{ name: 'f', digest: { sha256: 'ab' } }],
    });
    expect(payload.toString()).toBe(
      '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://cosign.sigstore.dev/attestation/v1",' +
        '"subject":[{"name":"f","digest":{"sha256":"ab"}}],"predicate":{"Data":"free \\u003ctext\\u003e\\n","Timestamp":"2026-01-02T03:04:05Z"}}',
    );
  });

  it.each(['cyclonedx', 'spdxjson', 'spdx', 'openvex', 'https://example.com/pred/v1'])(
    'writes the same statement bytes as the real cosign attest-blob for --type %s',
    (type) => {
      const cosign = cosignPath();
      const keyDir = dir;
      const env = { ...process.env, COSIGN_PASSWORD: 'pw' };
      if (!existsSync(join(keyDir, 'cosign.key'))) {
        const gen = spawnSync(cosign, ['generate-key-pair'], { cwd: keyDir, env });
        expect(gen.status, String(gen.stderr)).toBe(0);
      }
      writeFileSync(join(keyDir, 'pred.json'), '{"zeta":1,"alpha":{"b":[1,"<&>"],"a":null},"mid":"é"}\n');
      writeFileSync(join(keyDir, 'blob.txt'), 'blob\n');
      const r = spawnSync(
        cosign,
        [
          'attest-blob',
          '--key',
          'cosign.key',
          '--predicate',
          'pred.json',
          '--type',
          type,
          '--tlog-upload=false',
          '--output-file',
          'env.json',
          'blob.txt',
        ],
        { cwd: keyDir, env },
      );
      expect(r.status, String(r.stderr)).toBe(0);
      const theirs = Buffer.from(parseEnvelope(readFileSync(join(keyDir, 'env.json'))).payload).toString();
      const ours = cosignStatementPayload({
        type,
        predicate: readFileSync(join(keyDir, 'pred.json')),
        subjects: [{ name: 'blob.txt', digest: { sha256: createHash('sha256').update('blob\n').digest('hex') } }],
      }).toString();
      expect(ours).toBe(theirs);
    },
  );
});
