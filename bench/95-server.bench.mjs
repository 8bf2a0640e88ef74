// Issue 15 figures: the signing service under autocannon, beside a bare Fastify route that only signs the same
// statement, from one run of the server package's own bench (packages/server/bench/sign-bench.mjs, which also
// runs alone: `pnpm --filter @cosignkit/server bench`).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { goalAgainstFloor } from './lib/context.mjs';

export default async function server(ctx) {
  const script = join(ctx.root, 'packages', 'server', 'bench', 'sign-bench.mjs');
  const run = spawnSync(process.execPath, [script], {
    cwd: join(ctx.root, 'packages', 'server'),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`sign-bench exited ${run.status}`);
  const r = JSON.parse(run.stdout);
  const { fmt } = ctx;
  const t = r.throughput;
  const f = r.fixedRate;
  const o = r.overload;
  const over429 = o.statuses['429'] ?? 0;
  return {
    title: 'The signing service (issue 15)',
    intro: `autocannon over TLS with mTLS, 32 connections, 10 s per figure after a 2 s warm-up. "Full checks": file key, ES256 OpTok bound to the client certificate, ES256 licence PoE, plan quota, audit log on (group commit). The baseline is a bare Fastify route in the same process layout that only signs the same statement with the same key. Latency at a fixed rate: paced open-loop load (as wrk2), one request due every ${1000 / f.targetReqPerSec} ms on up to ${f.connections} kept-alive mTLS connections, each answer's latency counted from when its request was due, not from when it was sent (so a stall counts for every request behind it: coordinated omission corrected); requests due in the first ${f.warmSeconds} s (the handshakes) are not counted. autocannon's overallRate is shown in its own row, not as the figure: it sends each connection's quota for a second back to back when the second starts (a ${f.targetReqPerSec.toLocaleString('en')}-request burst each second, then idle), so it measures the queue a burst builds; its latencies are counted after the warm-up with HdrHistogram's fill at the per-connection interval (${1000 / (f.targetReqPerSec / f.connections)} ms).`,
    rows: [
      {
        name: 'sign requests per second, full checks',
        value: fmt.rate(t.fullChecksReqPerSec),
        baseline: 'bare Fastify route, sign only',
        baselineValue: fmt.rate(t.bareSignReqPerSec),
        ratio: fmt.ratio(t.ratio),
        goal: '≥ 0.5× and ≥ 2,000/s',
        met: t.ratio >= 0.5 && t.fullChecksReqPerSec >= 2000,
      },
      ...(t.auditOnTmpfsReqPerSec === undefined
        ? []
        : [
            {
              name: `floor: the same full-check server with its audit log on tmpfs (no disk behind the O_DSYNC group write; this disk's 1 KiB O_DSYNC write: p50 ${t.diskDsyncWriteMs.p50} ms, p99 ${t.diskDsyncWriteMs.p99} ms)`,
              value: fmt.rate(t.auditOnTmpfsReqPerSec),
              baseline: 'bare Fastify route, sign only',
              baselineValue: fmt.rate(t.bareSignReqPerSec),
              ratio: fmt.ratio(t.auditOnTmpfsRatio),
            },
          ]),
      {
        name: `p99 latency at a fixed ${f.targetReqPerSec.toLocaleString('en')} req/s, full checks, paced, connections warm (achieved ${fmt.rate(f.achievedReqPerSec)}; p50 ${f.p50ms} ms)`,
        value: `${f.p99ms} ms`,
        baseline: `bare route, same load (p50 ${f.bare.p50ms} ms)`,
        baselineValue: `${f.bare.p99ms} ms`,
        // The bare route (signing alone, no checks) under the same load is this machine's floor for the goal.
        goal: goalAgainstFloor('≤ 25 ms', f.p99ms > 25 && f.bare.p99ms > 25),
        met: f.p99ms <= 25,
      },
      {
        name: `p99 latency under autocannon's overallRate ${f.targetReqPerSec.toLocaleString('en')}/s (a burst each second), full checks (p50 ${f.autocannon.full.p50ms} ms; autocannon's whole-run histogram, handshakes included: p99 ${f.autocannon.full.autocannonWholeRunP99ms} ms)`,
        value: `${f.autocannon.full.p99ms} ms`,
        baseline: `bare route, same load (p50 ${f.autocannon.bare.p50ms} ms; whole-run ${f.autocannon.bare.autocannonWholeRunP99ms} ms)`,
        baselineValue: `${f.autocannon.bare.p99ms} ms`,
      },
      {
        name: `5xx answers at 10× the plan's QPS (${o.offeredReqPerSec}/s offered, plan ${o.planQps}/s; ${over429.toLocaleString('en')} × 429, ${(o.statuses['200'] ?? 0).toLocaleString('en')} × 200)`,
        value: String(o.fiveXx + (o.errors ?? 0)),
        goal: '0',
        met: o.fiveXx === 0 && (o.errors ?? 0) === 0,
      },
    ],
  };
}
