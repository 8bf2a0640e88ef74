import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SIGN_ROUTE } from '../src/index.js';
import { signBody, startServer, type Running } from './harness.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A real redis-server on loopback, no persistence. */
async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'cosignkit-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`redis-server exited ${code}: ${out}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const QPS = 40;
let redis: Awaited<ReturnType<typeof startRedis>>;
let a: Running;
let b: Running;

beforeAll(async () => {
  redis = await startRedis();
  const plan = (c: Record<string, any>) => {
    c.quotaStore = redis.url;
    c.plans.dev = { qps: QPS, concurrency: 64, maxSubjects: 8, maxPredicateBytes: 4096 };
  };
  a = await startServer(plan);
  // The second replica trusts the same authority, licensing service and CA: same dev environment files.
  b = await startServer(
    (c) => {
      plan(c);
      c.audit = { log: join(a.env.dir, 'audit-b.log') };
    },
    { env: a.env },
  );
}, 60_000);
afterAll(async () => {
  await b?.close();
  await a?.close();
  await redis?.stop();
});

describe('two replicas on one redis-server', () => {
  it('hold one shared QPS quota within ±2% over 10 s', async () => {
    const clients = [await a.client(), await a.client(), await b.client(), await b.client()];
    const body = signBody(a.env);
    const start = Date.now();
    const end = start + 10_000;
    let ok = 0;
    let limited = 0;
    let other = 0;
    const perReplica = [0, 0];
    await Promise.all(
      clients.flatMap((client, i) =>
        Array.from({ length: 4 }, async () => {
          while (Date.now() < end) {
            const res = await client.request('POST', SIGN_ROUTE, body);
            if (res.status === 200) {
              ok++;
              perReplica[i < 2 ? 0 : 1]!++;
            } else if (res.status === 429) limited++;
            else other++;
          }
        }),
      ),
    );
    const expected = QPS * 10;
    if (process.env.COSIGNKIT_TEST_VERBOSE) console.log({ ok, limited, other, perReplica, expected });
    expect(other).toBe(0);
    expect(limited).toBeGreaterThan(expected); // the load really exceeded the quota
    expect(perReplica[0]).toBeGreaterThan(expected * 0.2); // both replicas served
    expect(perReplica[1]).toBeGreaterThan(expected * 0.2);
    expect(Math.abs(ok - expected) / expected, `accepted ${ok}, expected ${expected}`).toBeLessThanOrEqual(0.02);
  }, 60_000);
});
