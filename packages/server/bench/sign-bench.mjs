// The signing service's benchmark, one run (pnpm --filter @cosignkit/server bench):
//  1. sign req/s with full checks (file key, ES256 OpTok bound by mTLS, ES256 licence PoE, quota, audit on)
//     beside a bare Fastify route that only signs the same statement (same key, same TLS + mTLS);
//  2. p99 latency at a fixed 1,000 req/s with full checks (paced, open loop), beside the bare route under the
//     same load, and autocannon's overallRate figures beside them;
//  3. 10x the plan's QPS: only 200s and 429s, zero 5xx.
import { spawn } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { createDevEnvironment } from '../dist/index.js';

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

const dir = await mkdtemp(join(tmpdir(), 'cosignkit-bench-'));
const env = await createDevEnvironment(dir);
const tls = {
  ca: await readFile(env.files.caCert),
  cert: await readFile(env.files.clientCert),
  key: await readFile(env.files.clientKey),
};
const body = JSON.stringify({
  subject: [{ name: 'app.tgz', digest: { sha256: 'a'.repeat(64) } }],
  predicateType: 'https://slsa.dev/provenance/v1',
  predicate: {
    buildDefinition: { buildType: 'https://example.com/build', externalParameters: { ref: 'main' } },
    runDetails: { builder: { id: 'ci' } },
  },
  scannerImageDigest: `sha256:${'b'.repeat(64)}`,
  poe: { format: 'jwt', value: env.poe },
});

async function startServer(mode, plan, extraEnv = {}) {
  const config = structuredClone(env.config);
  config.plans.dev = plan;
  config.maxInFlight = 4096;
  // A bigger libuv pool, as the README advises for the service: the audit fsync holds a pool thread, and the
  // key file's stat and the log writes must not queue behind it.
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, 'bench-server.mjs'), mode, JSON.stringify(config), dir],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16', ...extraEnv },
    },
  );
  const url = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`bench server exited ${code}`)));
  });
  return {
    url,
    stop: () =>
      new Promise((r) => {
        child.once('exit', r);
        child.kill('SIGTERM');
      }),
  };
}

function cannon(url, path, options = {}) {
  return autocannon({
    url: `${url}${path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${env.opTok}` },
    body,
    connections: CONNECTIONS,
    duration: DURATION,
    tlsOptions: tls,
    ...options,
  });
}

/** p50/p99 of a 1 KiB O_DSYNC append on the disk the audit log lives on (what each group commit waits for). */
async function dsyncWriteLatency(path, count) {
  const handle = await open(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | (constants.O_DSYNC ?? 0),
  );
  const times = [];
  const line = Buffer.alloc(1024, 0x61);
  try {
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await handle.write(line);
      times.push(performance.now() - t0);
    }
  } finally {
    await handle.close();
    await rm(path, { force: true });
  }
  times.sort((a, b) => a - b);
  const at = (q) => Math.round(times[Math.floor(times.length * q)] * 100) / 100;
  return { p50: at(0.5), p99: at(0.99) };
}

const statusSummary = (r) => Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));
const unlimited = { qps: 1_000_000, burst: 0, concurrency: 100_000, maxSubjects: 64, maxPredicateBytes: 65536 };
const results = {};

// 1. Throughput, full checks vs bare signing.
let s = await startServer('full', unlimited);
await cannon(s.url, '/api/v1/signer/sign/dsse', { duration: 2 }); // warm-up
const full = await cannon(s.url, '/api/v1/signer/sign/dsse');
await s.stop();
s = await startServer('bare', unlimited);
await cannon(s.url, '/sign', { duration: 2 });
const bare = await cannon(s.url, '/sign');
await s.stop();
// The floor under the ratio: every answer waits for its audit group's synchronous write to reach the disk.
// The same full-check server with its audit log on tmpfs (same code, same O_DSYNC write, no disk behind it)
// shows what the checks cost without that wait; the disk's O_DSYNC write latency is measured beside it.
let onTmpfs;
if (existsSync('/dev/shm')) {
  const shm = await mkdtemp('/dev/shm/cosignkit-bench-');
  s = await startServer('full', unlimited, { BENCH_AUDIT_DIR: shm });
  await cannon(s.url, '/api/v1/signer/sign/dsse', { duration: 2 });
  onTmpfs = await cannon(s.url, '/api/v1/signer/sign/dsse');
  await s.stop();
  await rm(shm, { recursive: true, force: true });
}
const syncMs = await dsyncWriteLatency(join(dir, 'sync-probe.log'), 300);
results.throughput = {
  fullChecksReqPerSec: Math.round(full.requests.average),
  bareSignReqPerSec: Math.round(bare.requests.average),
  ratio: Math.round((full.requests.average / bare.requests.average) * 100) / 100,
  fullStatuses: statusSummary(full),
  bareStatuses: statusSummary(bare),
  ...(onTmpfs
    ? {
        auditOnTmpfsReqPerSec: Math.round(onTmpfs.requests.average),
        auditOnTmpfsRatio: Math.round((onTmpfs.requests.average / bare.requests.average) * 100) / 100,
      }
    : {}),
  diskDsyncWriteMs: syncMs,
};

// 2. p99 at a fixed 1,000 req/s (full checks), and the bare route under the same load (the floor).
// Paced, open loop (as wrk2): one request every 1 ms by the clock, on a pool of up to 64 kept-alive mTLS
// connections, each answer's latency counted from the moment its request was due, not from when it left, so
// a stall delays every request behind it and they all count it (coordinated omission corrected by
// construction). Steady state: requests due in the first WARM_SECONDS (which open the connections, with their
// handshakes) are not counted.
// autocannon's overallRate is shown beside it, not as the figure: it sends each connection's quota for the
// second back to back when the second starts (a 1,000-request burst at full speed, then idle), so what it
// measures is the queue a burst builds, at whatever rate the server drains it.
const RATE = 1000;
const FIXED_CONNECTIONS = 64;
const WARM_SECONDS = 2;
const quantiles = (latencies) => {
  latencies.sort((a, b) => a - b);
  const at = (q) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] * 10) / 10;
  return { p50ms: at(0.5), p99ms: at(0.99), maxMs: at(1) };
};
/**
 * A minimal keep-alive HTTP/1.1 client over mTLS for the paced load: up to `max` connections, one request at a
 * time on each, the most recently freed connection reused first; answers are read by Content-Length (the
 * service and the bare route always send one). Lighter than node:https's agent, so the load generator takes
 * less of the CPU it shares with the server (autocannon is as light, but cannot pace).
 */
function connectionPool(url, path, max) {
  const head = `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${env.opTok}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  const requestBytes = Buffer.from(head + body);
  const idle = [];
  const waiting = [];
  const sockets = new Set();
  const start = (conn, job) => {
    conn.job = job;
    conn.socket.write(requestBytes);
  };
  const release = (conn) => {
    const next = waiting.shift();
    if (next) start(conn, next);
    else idle.push(conn);
  };
  const read = (conn) => {
    for (;;) {
      const end = conn.buffer.indexOf('\r\n\r\n');
      if (end < 0 || conn.job === undefined) return;
      const header = conn.buffer.subarray(0, end).toString('latin1');
      const length = /\r\ncontent-length: *(\d+)/i.exec(header);
      if (!length) {
        conn.socket.destroy(new Error('an answer without Content-Length'));
        return;
      }
      const total = end + 4 + Number(length[1]);
      if (conn.buffer.length < total) return;
      conn.buffer = conn.buffer.subarray(total);
      const job = conn.job;
      conn.job = undefined;
      job(Number(header.slice(9, 12)));
      release(conn);
    }
  };
  const open = () => {
    const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ...tls });
    socket.setNoDelay(true);
    const conn = { socket, buffer: Buffer.alloc(0), job: undefined };
    sockets.add(socket);
    socket.on('data', (chunk) => {
      conn.buffer = conn.buffer.length === 0 ? chunk : Buffer.concat([conn.buffer, chunk]);
      read(conn);
    });
    socket.once('close', () => {
      sockets.delete(socket);
      const at = idle.indexOf(conn);
      if (at >= 0) idle.splice(at, 1);
      conn.job?.(undefined);
      conn.job = undefined;
    });
    socket.on('error', () => undefined);
    return conn;
  };
  return {
    /** Sends one request; `done` gets the status, or undefined when the connection failed. */
    send(done) {
      const conn = idle.pop();
      if (conn) start(conn, done);
      else if (sockets.size < max) start(open(), done);
      else waiting.push(done);
    },
    close() {
      for (const socket of sockets) socket.destroy();
    },
  };
}

async function pacedRate(mode) {
  const server = await startServer(mode, unlimited);
  const pool = connectionPool(
    new URL(server.url),
    mode === 'bare' ? '/sign' : '/api/v1/signer/sign/dsse',
    FIXED_CONNECTIONS,
  );
  const latencies = [];
  const statuses = {};
  let errors = 0;
  let answeredInWindow = 0;
  const interval = 1000 / RATE;
  const start = performance.now();
  const from = start + WARM_SECONDS * 1000;
  const end = from + DURATION * 1000;
  let due = start;
  let outstanding = 0;
  await new Promise((done) => {
    const settle = (sentAt, status) => {
      outstanding--;
      const now = performance.now();
      if (now >= from && now < end) answeredInWindow++;
      if (sentAt >= from) {
        if (status === undefined) errors++;
        else {
          statuses[status] = (statuses[status] ?? 0) + 1;
          latencies.push(now - sentAt);
        }
      }
      if (due >= end && outstanding === 0) done();
    };
    // Every request whose time has come is sent; the timer only wakes the loop (its lateness is counted).
    const pump = () => {
      const now = performance.now();
      while (due <= now && due < end) {
        const sentAt = due;
        outstanding++;
        pool.send((status) => settle(sentAt, status));
        due += interval;
      }
      if (due < end) setTimeout(pump, 1);
    };
    pump();
  });
  pool.close();
  await server.stop();
  // Answers that arrived inside the counted window, per second: below the target when the server falls behind.
  return { achievedReqPerSec: Math.round(answeredInWindow / DURATION), ...quantiles(latencies), statuses, errors };
}
// autocannon at overallRate, answers after the warm-up, with HdrHistogram's coordinated-omission fill at the
// per-connection interval (64 ms); autocannon's own whole-run p99 beside it.
async function burstRate(mode) {
  const server = await startServer(mode, unlimited);
  const path = mode === 'bare' ? '/sign' : '/api/v1/signer/sign/dsse';
  const latencies = [];
  const run = cannon(server.url, path, {
    overallRate: RATE,
    connections: FIXED_CONNECTIONS,
    duration: WARM_SECONDS + DURATION,
  });
  const from = performance.now() + WARM_SECONDS * 1000;
  const interval = 1000 / (RATE / FIXED_CONNECTIONS);
  run.on('response', (_client, _status, _bytes, ms) => {
    if (performance.now() < from) return;
    latencies.push(ms);
    for (let missing = ms - interval; missing >= interval; missing -= interval) latencies.push(missing);
  });
  const whole = await run;
  await server.stop();
  return { ...quantiles(latencies), autocannonWholeRunP99ms: whole.latency.p99 };
}
const pacedFull = await pacedRate('full');
const pacedBare = await pacedRate('bare');
results.fixedRate = {
  targetReqPerSec: RATE,
  warmSeconds: WARM_SECONDS,
  connections: FIXED_CONNECTIONS,
  ...pacedFull,
  bare: pacedBare,
  autocannon: { full: await burstRate('full'), bare: await burstRate('bare') },
};

// 3. 10x the plan's QPS: the plan allows 100/s, the load is 1,000/s.
s = await startServer('full', { qps: 100, burst: 0, concurrency: 10_000, maxSubjects: 64, maxPredicateBytes: 65536 });
const over = await cannon(s.url, '/api/v1/signer/sign/dsse', { overallRate: 1000, connections: 64 });
await s.stop();
const overStatuses = statusSummary(over);
results.overload = {
  planQps: 100,
  offeredReqPerSec: 1000,
  statuses: overStatuses,
  fiveXx: Object.entries(overStatuses)
    .filter(([k]) => k.startsWith('5'))
    .reduce((n, [, v]) => n + v, 0),
  errors: over.errors,
  accepted200PerSec: Math.round((overStatuses['200'] ?? 0) / DURATION),
};

await rm(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
