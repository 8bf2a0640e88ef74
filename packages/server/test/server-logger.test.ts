import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServerLogger } from '../src/server-logger.js';

const dir = await mkdtemp(join(tmpdir(), 'cosignkit-server-logger-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function waitFor(path: string, test: (text: string) => boolean, ms: number): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const text = await readFile(path, 'utf8').catch(() => '');
    if (test(text) || Date.now() > until) return text;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the buffered request log', () => {
  it('holds short lines back, then writes a lone line within its flush interval, credentials redacted', async () => {
    const path = join(dir, 'lone.log');
    const log = createServerLogger('info', path);
    log.info({ headers: { authorization: 'Bearer secret-token' }, auditId: 'a-1' }, 'request');
    // Not written at once: it waits for more lines or for the timer.
    expect(await readFile(path, 'utf8').catch(() => '')).toBe('');
    const text = await waitFor(path, (t) => t.includes('a-1'), 2000);
    const line = JSON.parse(text.trim()) as Record<string, any>;
    expect(line.auditId).toBe('a-1');
    expect(line.headers.authorization).toBe('[redacted]');
    expect(text).not.toContain('secret-token');
  });

  it('writes every line of a burst, in order', async () => {
    const path = join(dir, 'burst.log');
    const log = createServerLogger('info', path);
    for (let i = 0; i < 500; i++) log.info({ auditId: `b-${i}` }, 'request');
    const text = await waitFor(path, (t) => t.trim().split('\n').length === 500, 3000);
    const ids = text
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { auditId: string }).auditId);
    expect(ids).toEqual(Array.from({ length: 500 }, (_, i) => `b-${i}`));
  });
});
