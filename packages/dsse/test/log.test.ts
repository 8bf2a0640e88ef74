import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, truncateSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendToLog, buildStatement, envelopeDigest, headPath, verifyLog, withFileLock, type Envelope } from '../src/index.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('cosignkit-dsse-log-')));
afterAll(async () => cleanup());

let n = 0;
function envelope(tag = `e${n++}`): Envelope {
  const statement = buildStatement({ subjects: [{ name: `${tag}.bin`, digest: { sha256: 'ab'.repeat(32) } }], predicateType: 'x:y' });
  return { payloadType: 'application/vnd.in-toto+json', payload: Buffer.from(JSON.stringify(statement)), signatures: [{ keyid: '', sig: Buffer.from(tag) }] };
}

/** A fresh log with `count` entries; returns its path and its lines. */
async function freshLog(name: string, count = 5): Promise<{ log: string; lines: string[]; envelopes: Envelope[] }> {
  const log = join(dir, `${name}.jsonl`);
  const envelopes = Array.from({ length: count }, () => envelope());
  for (const e of envelopes) await appendToLog(log, e);
  return { log, lines: readFileSync(log, 'utf8').split('\n').slice(0, -1), envelopes };
}

function write(log: string, lines: string[], trailingNewline = true): void {
  writeFileSync(log, lines.join('\n') + (trailingNewline ? '\n' : ''));
}

describe('the append-only log', () => {
  it('appends chained entries and finds an envelope', async () => {
    const { log, lines, envelopes } = await freshLog('ok');
    expect(lines).toHaveLength(5);
    const first = JSON.parse(lines[0]!);
    expect(Object.keys(first)).toEqual(['seq', 'time', 'envelope', 'subjects', 'prev', 'hash']);
    expect(first).toMatchObject({ seq: 1, prev: '0'.repeat(64), subjects: [{ name: expect.stringMatching(/\.bin$/) }] });
    expect(JSON.parse(lines[1]!).prev).toBe(first.hash);
    const result = await verifyLog(log, { envelope: `sha256:${envelopeDigest(envelopes[2]!)}` });
    expect(result).toMatchObject({ intact: true, entries: 5, headFile: true, problems: [] });
    expect(result.found.map((f) => f.line)).toEqual([3]);
    expect(result.head).toEqual(JSON.parse(readFileSync(headPath(log), 'utf8')));
  });

  it.each([
    ['a changed line', (l: string[]) => { l[2] = l[2]!.replace('.bin', '.exe'); }, 3, 'changed'],
    ['a removed line', (l: string[]) => { l.splice(1, 1); }, 2, 'removed'],
    ['two swapped lines', (l: string[]) => { [l[1], l[2]] = [l[2]!, l[1]!]; }, 2, 'removed'],
    ['a duplicated line', (l: string[]) => { l.splice(3, 0, l[1]!); }, 4, 'reordered'],
    ['a line of garbage', (l: string[]) => { l.splice(2, 0, 'garbage'); }, 3, 'malformed'],
  ])('detects %s and names the line', async (name, edit, line, kind) => {
    const { log, lines } = await freshLog(`tamper-${name.replace(/\W/g, '_')}`);
    edit(lines);
    write(log, lines);
    const result = await verifyLog(log);
    expect(result.intact).toBe(false);
    expect(result.problems[0]).toMatchObject({ line, kind });
    expect(result.problems[0]!.message).toContain(`line ${line}`);
  });

  it('detects an inserted line that is self-consistent but does not chain', async () => {
    const { log, lines } = await freshLog('insert');
    const other = await freshLog('insert-source', 3);
    lines.splice(2, 0, other.lines[2]!); // seq 3 from another log, a valid hash of its own
    write(log, lines);
    const result = await verifyLog(log);
    expect(result.problems[0]).toMatchObject({ line: 3, kind: 'inserted' });
  });

  it('detects a line whose hash was recomputed after a change (the chain breaks at the next line)', async () => {
    const { log, lines } = await freshLog('rehash');
    const { makeEntry } = await import('../src/log/log-entry.js');
    const e = JSON.parse(lines[1]!);
    delete e.hash;
    e.subjects[0].name = 'evil.bin';
    lines[1] = makeEntry(e).line;
    write(log, lines);
    const result = await verifyLog(log);
    expect(result.problems[0]).toMatchObject({ line: 3, kind: 'inserted' });
  });

  it('detects removed last lines through the head file', async () => {
    const { log, lines } = await freshLog('tail');
    write(log, lines.slice(0, 3));
    const result = await verifyLog(log);
    expect(result.problems).toEqual([expect.objectContaining({ kind: 'truncated', line: 4 })]);
    expect(result.problems[0]!.message).toContain('after line 3');
  });

  it('detects a torn last line, and the next append cuts it off', async () => {
    const { log } = await freshLog('torn', 3);
    appendFileSync(log, '{"seq":4,"time":"2026');
    const torn = await verifyLog(log);
    expect(torn.intact).toBe(false);
    expect(torn.problems[0]).toMatchObject({ line: 4, kind: 'torn' });
    expect(torn.entries).toBe(3);
    const entry = await appendToLog(log, envelope());
    expect(entry.seq).toBe(4);
    expect(await verifyLog(log)).toMatchObject({ intact: true, entries: 4 });
  });

  it('simulates a crash at every byte of an append: never intact with an acknowledged entry lost', async () => {
    const { log } = await freshLog('crash', 2);
    const before = readFileSync(log);
    const head = readFileSync(headPath(log));
    await appendToLog(log, envelope());
    const after = readFileSync(log);
    for (let cut = before.length; cut < after.length; cut++) {
      writeFileSync(log, after.subarray(0, cut));
      writeFileSync(headPath(log), head); // the head is written only after the line's fsync
      const result = await verifyLog(log);
      // Either exactly the acknowledged entries (cut at a line boundary) or a torn line is reported.
      if (cut === before.length) expect(result).toMatchObject({ intact: true, entries: 2 });
      else expect(result.problems).toEqual([expect.objectContaining({ kind: 'torn', line: 3 })]);
    }
  });

  it('loses nothing with 4 concurrent writer processes', async () => {
    const log = join(dir, 'concurrent.jsonl');
    const worker = fileURLToPath(new URL('./append-worker.mjs', import.meta.url));
    const perWriter = 15;
    const outputs = await Promise.all(['a', 'b', 'c', 'd'].map((tag) => new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [worker, log, String(perWriter), tag], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`worker ${tag} exited ${code}: ${err}`))));
    })));
    const acknowledged = outputs.flatMap((o) => o.trim().split('\n'));
    expect(acknowledged).toHaveLength(4 * perWriter);
    const result = await verifyLog(log);
    expect(result).toMatchObject({ intact: true, entries: 4 * perWriter });
    const seqs = acknowledged.map((l) => Number(l.split(' ')[0])).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 4 * perWriter }, (_, i) => i + 1));
    expect(existsSync(`${log}.lock`)).toBe(false);
  });

  it('breaks a stale lock left by a dead process, and waits for a live one', async () => {
    const log = join(dir, 'stale.jsonl');
    writeFileSync(`${log}.lock`, JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname() }));
    await appendToLog(log, envelope());
    expect(existsSync(`${log}.lock`)).toBe(false);
    writeFileSync(`${log}.lock`, JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname() }));
    await expect(appendToLog(log, envelope(), { timeoutMs: 200 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    rmSync(`${log}.lock`);
    expect(await withFileLock(log, async () => 'held')).toBe('held');
  });

  it('refuses to append after a damaged last entry', async () => {
    const { log, lines } = await freshLog('damaged', 2);
    lines[1] = lines[1]!.replace('"seq":2', '"seq":7');
    write(log, lines);
    await expect(appendToLog(log, envelope())).rejects.toMatchObject({ code: 'VERIFICATION_FAILED' });
    truncateSync(log, 0);
    rmSync(headPath(log));
    expect((await appendToLog(log, envelope())).seq).toBe(1);
  });

  it('never cuts a complete last entry that only lost its newline (issue 11): restores the newline', async () => {
    const { log, envelopes } = await freshLog('no-newline', 2);
    truncateSync(log, readFileSync(log).length - 1); // `truncate -s -1`: entry 2 is whole, the head vouches for it
    const entry = await appendToLog(log, envelope());
    expect(entry.seq).toBe(3);
    const lines = readFileSync(log, 'utf8').split('\n');
    expect(lines).toHaveLength(4);
    for (const [i, e] of envelopes.entries()) {
      const result = await verifyLog(log, { envelope: `sha256:${envelopeDigest(e)}` });
      expect(result).toMatchObject({ intact: true, entries: 3, problems: [] });
      expect(result.found.map((f) => f.seq)).toEqual([i + 1]);
    }
  });

  it('at every crash point of an append, keeps every entry and cuts only an unacknowledged torn fragment', async () => {
    const { log } = await freshLog('crash-append', 2);
    const before = readFileSync(log);
    const oldHead = readFileSync(headPath(log));
    await appendToLog(log, envelope());
    const after = readFileSync(log);
    const newHead = readFileSync(headPath(log));
    // Every byte of the first 40 and the last 4, and a stride between (each point costs several fsyncs).
    const cuts = Array.from({ length: after.length - before.length - 1 }, (_, i) => before.length + 1 + i)
      .filter((cut) => cut < before.length + 40 || cut >= after.length - 4 || cut % 13 === 0);
    for (const cut of cuts) {
      // The writer died before its head write: the fragment is not vouched for.
      writeFileSync(log, after.subarray(0, cut));
      writeFileSync(headPath(log), oldHead);
      const complete = cut === after.length - 1; // all of entry 3 but its newline
      const entry = await appendToLog(log, envelope());
      expect(entry.seq).toBe(complete ? 4 : 3);
      expect(readFileSync(log).subarray(0, complete ? after.length : before.length)).toEqual(complete ? after : before);
      expect(await verifyLog(log)).toMatchObject({ intact: true, entries: entry.seq });
      // The head vouches for entry 3: only the lost newline may be repaired; a torn entry 3 is refused untouched.
      writeFileSync(log, after.subarray(0, cut));
      writeFileSync(headPath(log), newHead);
      if (complete) {
        expect((await appendToLog(log, envelope())).seq).toBe(4);
        expect(await verifyLog(log)).toMatchObject({ intact: true, entries: 4 });
      } else {
        await expect(appendToLog(log, envelope())).rejects.toMatchObject({ code: 'VERIFICATION_FAILED', details: { problem: 'truncated' } });
        expect(readFileSync(log)).toEqual(after.subarray(0, cut));
        expect(readFileSync(headPath(log))).toEqual(newHead);
      }
    }
  });

  it('refuses, byte for byte untouched, a file that is not a log or a log whose end disagrees with its head', async () => {
    const good = await freshLog('refuse-src', 3);
    const headText = readFileSync(headPath(good.log), 'utf8');
    const cases: [string, string, string | undefined, string][] = [
      ['notes without a final newline', 'my notes\nsecond line', undefined, 'malformed'],
      ['notes with a final newline', 'my notes\nsecond line\n', undefined, 'malformed'],
      ['one line of notes', 'my notes', undefined, 'malformed'],
      ['notes ending with a log entry', `my notes\n${good.lines[0]}\n`, undefined, 'malformed'],
      ['a log followed by text', `${good.lines.join('\n')}\nnot an entry`, headText, 'malformed'],
      ['a log followed by a copy of its first entry, unterminated', `${good.lines.join('\n')}\n${good.lines[0]}`, headText, 'malformed'],
      ['a log with its last line removed', `${good.lines.slice(0, 2).join('\n')}\n`, headText, 'truncated'],
      ['an empty log whose head records entries', '', headText, 'truncated'],
      ['a log whose head names another entry 3', `${good.lines.join('\n')}\n`, JSON.stringify({ seq: 3, hash: JSON.parse(good.lines[1]!).hash }), 'changed'],
    ];
    for (const [name, content, head, problem] of cases) {
      const log = join(dir, `refuse-${name.replace(/\W/g, '_')}.txt`);
      writeFileSync(log, content);
      if (head !== undefined) writeFileSync(headPath(log), head);
      const error = await appendToLog(log, envelope()).then(() => undefined, (e: unknown) => e);
      expect(error, name).toMatchObject({ code: 'VERIFICATION_FAILED', details: { problem } });
      expect((error as Error).message, name).not.toContain('\n');
      expect(readFileSync(log, 'utf8'), name).toBe(content);
      expect(existsSync(headPath(log)) ? readFileSync(headPath(log), 'utf8') : undefined, name).toBe(head);
      expect(existsSync(`${log}.lock`), name).toBe(false);
    }
  });

  it('does not recreate a removed log whose head file remains', async () => {
    const { log } = await freshLog('removed', 2);
    rmSync(log);
    await expect(appendToLog(log, envelope())).rejects.toMatchObject({ code: 'VERIFICATION_FAILED' });
    expect(existsSync(log)).toBe(false);
  });

  it('streams a log larger than its read chunk, with multi-byte names across chunk edges', async () => {
    const { canonicalEntry, GENESIS_HASH } = await import('../src/index.js');
    const { createHash } = await import('node:crypto');
    const log = join(dir, 'big.jsonl');
    const lines: string[] = [];
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= 6000; seq++) {
      const canonical = canonicalEntry({ seq, time: new Date(seq * 1000).toISOString(), envelope: `sha256:${'e'.repeat(64)}`,
        subjects: [{ name: `é€😀-${'x'.repeat(seq % 7)}-${seq}`, digest: { sha256: 'ab'.repeat(32) } }], prev });
      prev = createHash('sha256').update(canonical).digest('hex');
      lines.push(`${canonical.slice(0, -1)},"hash":"${prev}"}`);
    }
    write(log, lines);
    expect(readFileSync(log).length).toBeGreaterThan(2 * 1024 * 1024);
    expect(await verifyLog(log)).toMatchObject({ intact: true, entries: 6000, headFile: false });
    lines[4321] = lines[4321]!.replace('😀', '😁');
    write(log, lines);
    expect((await verifyLog(log)).problems[0]).toMatchObject({ line: 4322, kind: 'changed' });
  });
});
