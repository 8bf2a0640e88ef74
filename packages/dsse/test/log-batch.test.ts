import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
      { envelope: `sha256:${'1'.repeat(64)}`, subjects: [{ name: 'a', digest: { sha256: 'a'.repeat(64) } }], record: { id: 'r1', outcome: 'signed' } },
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
