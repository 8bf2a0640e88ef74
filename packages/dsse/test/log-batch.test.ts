import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { appendEntries, readHead, verifyLog } from '../src/index.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('appendEntries (group commit) and audit records', () => {
  it('appends a batch in one chain, with records covered by the hash, and verify-log accepts it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'dsse-batch-'));
    const log = join(dir, 'audit.log');
    const first = await appendEntries(log, [
      {
        envelope: `sha256:${'1'.repeat(64)}`,
        subjects: [{ name: 'a', digest: { sha256: 'a'.repeat(64) } }],
        record: { id: 'r1', outcome: 'signed' },
      },
      { envelope: '', subjects: [], record: { id: 'r2', outcome: 'refused', status: 401 } },
    ]);
    const second = await appendEntries(log, [{ envelope: '', subjects: [] }]);
    expect(first.map((e) => e.seq)).toEqual([1, 2]);
    expect(first[1]!.prev).toBe(first[0]!.hash);
    expect(second[0]!.prev).toBe(first[1]!.hash);
    expect(await readHead(log)).toEqual({ seq: 3, hash: second[0]!.hash });
    const result = await verifyLog(log, { envelope: `sha256:${'1'.repeat(64)}` });
    expect(result.intact).toBe(true);
    expect(result.found).toHaveLength(1);
    expect(result.found[0]!.record).toEqual({ id: 'r1', outcome: 'signed' });
    // A changed record breaks its line's hash.
    const text = await readFile(log, 'utf8');
    await writeFile(log, text.replace('"status":401', '"status":200'));
    const tampered = await verifyLog(log);
    expect(tampered.intact).toBe(false);
    expect(tampered.problems[0]).toMatchObject({ line: 2, kind: 'changed' });
  });
  it('appends nothing for an empty batch', async () => {
    dir = await mkdtemp(join(tmpdir(), 'dsse-batch-'));
    expect(await appendEntries(join(dir, 'x.log'), [])).toEqual([]);
  });
});

describe('LogWriter (a log held open by one writer)', () => {
  it('appends batches with one fsync each, holds the lock, writes the head on close, and resumes the chain', async () => {
    const { LogWriter, appendToLog } = await import('../src/index.js');
    dir = await mkdtemp(join(tmpdir(), 'dsse-writer-'));
    const log = join(dir, 'audit.log');
    const writer = await LogWriter.open(log);
    const a = await writer.append([
      { envelope: '', subjects: [], record: { id: '1' } },
      { envelope: '', subjects: [], record: { id: '2' } },
    ]);
    const b = await writer.append([{ envelope: '', subjects: [], record: { id: '3' } }]);
    expect([...a, ...b].map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(b[0]!.prev).toBe(a[1]!.hash);
    // The lock is held (naming this process) while the writer is open.
    expect(JSON.parse(await readFile(`${log}.lock`, 'utf8')).pid).toBe(process.pid);
    await writer.close();
    expect(await readHead(log)).toEqual({ seq: 3, hash: b[0]!.hash });
    expect((await verifyLog(log)).intact).toBe(true);
    const again = await LogWriter.open(log);
    const c = await again.append([{ envelope: '', subjects: [] }]);
    expect(c[0]).toMatchObject({ seq: 4, prev: b[0]!.hash });
    await again.close();
    expect((await verifyLog(log)).intact).toBe(true);
    void appendToLog;
  });

  it('rewrites the head at most every headIntervalMs while entries come, and the last one on close', async () => {
    const { LogWriter } = await import('../src/index.js');
    dir = await mkdtemp(join(tmpdir(), 'dsse-writer-'));
    const log = join(dir, 'audit.log');
    const writer = await LogWriter.open(log, { headIntervalMs: 60_000 });
    const [a] = await writer.append([{ envelope: '', subjects: [], record: { id: '1' } }]);
    // The first head is written at once (no earlier one to wait for).
    await vi.waitFor(async () => expect(await readHead(log)).toEqual({ seq: 1, hash: a!.hash }));
    const [b] = await writer.append([{ envelope: '', subjects: [], record: { id: '2' } }]);
    const [c] = await writer.append([{ envelope: '', subjects: [], record: { id: '3' } }]);
    await new Promise((r) => setTimeout(r, 100));
    // Within the interval the head stays behind its log, which verifies (the entries are durable).
    expect(await readHead(log)).toEqual({ seq: 1, hash: a!.hash });
    const behind = await verifyLog(log);
    expect(behind.problems).toEqual([]);
    expect(behind.intact).toBe(true);
    expect(behind.entries).toBe(3);
    await writer.close();
    expect(await readHead(log)).toEqual({ seq: 3, hash: c!.hash });
    expect(b!.seq).toBe(2);

    // A short interval: the head catches up by itself, without a close.
    const quick = await LogWriter.open(log, { headIntervalMs: 20 });
    await quick.append([{ envelope: '', subjects: [] }]);
    const [e] = await quick.append([{ envelope: '', subjects: [] }]);
    await vi.waitFor(async () => expect(await readHead(log)).toEqual({ seq: 5, hash: e!.hash }));
    await quick.close();
    expect((await verifyLog(log)).intact).toBe(true);
  });
});
