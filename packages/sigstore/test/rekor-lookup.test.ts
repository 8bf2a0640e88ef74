import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRekorEntry } from '../src/verify/rekor-lookup.js';

// The online lookup treats Rekor as untrusted: a hostile or broken log answer is one clean error, bounded in
// size and time. (That a found entry is verified, not trusted, is shown against the dev stack in the CLI's
// keyless-legacy-blob test.)
let server: Server;
let url: string;
let answer: (path: string) => { status: number; body: string | Buffer; hang?: boolean };

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    const a = answer(req.url ?? '');
    if (a.hang) return;
    res.writeHead(a.status, { 'content-type': 'application/json' });
    res.end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const lookup = (timeoutMs?: number) =>
  findRekorEntry({
    rekorUrl: url,
    sha256: Buffer.alloc(32, 1),
    signature: Buffer.from('sig'),
    certificate: Buffer.from('not used before a match'),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });

describe('findRekorEntry against a hostile log', () => {
  it('no entry for the digest: VERIFICATION_FAILED', async () => {
    answer = () => ({ status: 200, body: '[]' });
    await expect(lookup()).rejects.toMatchObject({ code: 'VERIFICATION_FAILED' });
  });

  it('entries that are not hashedrekords of this signature: VERIFICATION_FAILED, never a pass', async () => {
    answer = (path) =>
      path.includes('index')
        ? { status: 200, body: '["aa"]' }
        : { status: 200, body: JSON.stringify([{ aa: { body: 'garbage', integratedTime: 1, logIndex: 1 } }, 7, null]) };
    await expect(lookup()).rejects.toMatchObject({ code: 'VERIFICATION_FAILED' });
  });

  it("goes through the signer's bounded node:http client (service-fetch), never fetch", async () => {
    const realFetch = globalThis.fetch;
    globalThis.fetch = (() => {
      throw new Error('fetch is not the lookup client');
    }) as typeof fetch;
    try {
      answer = () => ({ status: 200, body: '[]' });
      await expect(lookup()).rejects.toMatchObject({ code: 'VERIFICATION_FAILED' });
    } finally {
      globalThis.fetch = realFetch;
    }
  });

  it('cancelled by the caller: ABORTED', async () => {
    answer = () => ({ status: 200, body: '', hang: true });
    const controller = new AbortController();
    const pending = findRekorEntry({
      rekorUrl: url,
      sha256: Buffer.alloc(32, 1),
      signature: Buffer.from('sig'),
      certificate: Buffer.alloc(0),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('an answer over the bound, not JSON, not a list, an HTTP error or no answer in time: BACKEND_UNAVAILABLE', async () => {
    for (const a of [
      { status: 200, body: Buffer.alloc(3 * 1024 * 1024, 0x20) },
      { status: 200, body: 'not json' },
      { status: 200, body: '{"uuids": 1}' },
      { status: 503, body: '{}' },
    ]) {
      answer = () => a;
      await expect(lookup()).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    }
    answer = () => ({ status: 200, body: '', hang: true });
    const started = Date.now();
    await expect(lookup(300)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
