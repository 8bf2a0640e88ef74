import { appendFileSync, existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosignkit, expectFailure, expectOk, listDir, tempHome, type Run } from './helpers.js';

// log-dsse and verify-log through the real CLI.
let home: ReturnType<typeof tempHome>;
let dir: string;
const ck = (args: string[]) => cosignkit(args, { cwd: dir });

const ok = expectOk;

function envelope(i: number): string {
  const statement = { _type: 'https://in-toto.io/Statement/v1', predicateType: 'x:y', subject: [{ name: `f${i}`, digest: { sha256: 'ab'.repeat(32) } }] };
  return JSON.stringify({ payloadType: 'application/vnd.in-toto+json', payload: Buffer.from(JSON.stringify(statement)).toString('base64'), signatures: [{ keyid: '', sig: 'AQID' }] });
}

beforeAll(() => {
  home = tempHome();
  dir = home.dir;
  for (let i = 0; i < 4; i++) writeFileSync(join(dir, `e${i}.json`), envelope(i));
});
afterAll(() => home?.cleanup());

describe('log-dsse and verify-log', () => {
  it('appends, verifies the chain and finds an envelope', async () => {
    for (let i = 0; i < 3; i++) {
      const run = ok(await ck(['log-dsse', '--dsse', `e${i}.json`, '--log', 'att.jsonl']));
      expect(run.stdout).toMatch(new RegExp(`as entry ${i + 1} in att.jsonl`));
    }
    const run = ok(await ck(['verify-log', '--dsse', 'e1.json', '--log', 'att.jsonl']));
    expect(run.stdout).toMatch(/Log intact: 3 entries/);
    expect(run.stdout).toMatch(/at line 2 \(seq 2,/);
    const json = JSON.parse((await ck(['verify-log', '--json', '--dsse', 'e2.json', '--log', 'att.jsonl'])).stdout);
    expect(json).toMatchObject({ intact: true, entries: 3, found: [{ line: 3, seq: 3, subjects: [{ name: 'f2' }] }] });
  });

  it('exits 2 when the envelope is not in the log', async () => {
    expectFailure(await ck(['verify-log', '--dsse', 'e3.json', '--log', 'att.jsonl']), 2, /is not in the log/);
  });

  it('exits 2 naming the line of a changed entry or a torn last line', async () => {
    const lines = readFileSync(join(dir, 'att.jsonl'), 'utf8').split('\n');
    writeFileSync(join(dir, 'changed.jsonl'), lines.map((l, i) => (i === 1 ? l.replace('"f1"', '"fX"') : l)).join('\n'));
    writeFileSync(join(dir, 'changed.jsonl.head'), readFileSync(join(dir, 'att.jsonl.head')));
    expectFailure(await ck(['verify-log', '--log', 'changed.jsonl']), 2, /line 2 was changed/);
    writeFileSync(join(dir, 'torn.jsonl'), lines.join('\n'));
    appendFileSync(join(dir, 'torn.jsonl'), '{"seq":4,');
    expectFailure(await ck(['verify-log', '--log', 'torn.jsonl']), 2, /line 4 is torn/);
  });

  it('keeps an entry that only lost its final newline (truncate -s -1) and appends after it (issue 11)', async () => {
    ok(await ck(['log-dsse', '--dsse', 'e0.json', '--log', 'cut.jsonl']));
    ok(await ck(['log-dsse', '--dsse', 'e1.json', '--log', 'cut.jsonl']));
    truncateSync(join(dir, 'cut.jsonl'), statSync(join(dir, 'cut.jsonl')).size - 1);
    expect(ok(await ck(['log-dsse', '--dsse', 'e2.json', '--log', 'cut.jsonl'])).stdout).toMatch(/as entry 3 in cut.jsonl/);
    for (const [i, e] of ['e0.json', 'e1.json', 'e2.json'].entries()) {
      const run = ok(await ck(['verify-log', '--dsse', e, '--log', 'cut.jsonl']));
      expect(run.stdout).toMatch(/Log intact: 3 entries/);
      expect(run.stdout).toMatch(new RegExp(`at line ${i + 1} \\(seq ${i + 1},`));
    }
  });

  it('exits 2 on a file that is not a log and leaves it byte for byte as it was', async () => {
    for (const content of ['my notes\nsecond line', 'my notes\nsecond line\n', 'one line']) {
      writeFileSync(join(dir, 'notes.txt'), content);
      const files = listDir(dir);
      expectFailure(await ck(['log-dsse', '--dsse', 'e0.json', '--log', 'notes.txt']), 2, /not a log.*\[VERIFICATION_FAILED\]$/);
      expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe(content);
      expect(existsSync(join(dir, 'notes.txt.head'))).toBe(false);
      expect(listDir(dir)).toEqual(files);
    }
  });

  it('exits 3 on a malformed envelope and appends nothing', async () => {
    writeFileSync(join(dir, 'bad.json'), '{"payloadType":');
    expectFailure(await ck(['log-dsse', '--dsse', 'bad.json', '--log', 'att.jsonl']), 3, 'ENVELOPE_MALFORMED');
    ok(await ck(['verify-log', '--log', 'att.jsonl']));
    expect(readFileSync(join(dir, 'att.jsonl'), 'utf8').split('\n')).toHaveLength(4);
  });
});
