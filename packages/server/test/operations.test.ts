import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CosignkitError } from '@cosignkit/core';
import { loadServerConfig, parseServerConfig, SIGN_ROUTE } from '../src/index.js';
import { signBody, startServer, type Running } from './harness.js';
import { writeFile } from 'node:fs/promises';

let s: Running;
beforeAll(async () => {
  s = await startServer((c) => {
    c.plans.dev.qps = 3;
    c.plans.dev.burst = 0;
  });
});
afterAll(async () => {
  await s?.close();
});

describe('metrics, health, readiness', () => {
  it('exposes latency per route and outcome, throttles by reason, signing latency', async () => {
    const c = await s.client();
    const results = await Promise.all(Array.from({ length: 6 }, () => c.request('POST', SIGN_ROUTE, signBody(s.env))));
    expect(results.some((r) => r.status === 429)).toBe(true);
    const metrics = await c.request('GET', '/metrics');
    expect(metrics.status).toBe(200);
    const text = metrics.body as string;
    expect(text).toMatch(
      /cosignkit_signer_request_duration_seconds_bucket\{le="[^"]+",route="\/api\/v1\/signer\/sign\/dsse",outcome="signed",status="200"\}/,
    );
    expect(text).toMatch(
      /cosignkit_signer_request_duration_seconds_count\{route="\/api\/v1\/signer\/sign\/dsse",outcome="over-quota",status="429"\} \d+/,
    );
    expect(text).toMatch(/cosignkit_signer_throttled_total\{reason="qps"\} [1-9]/);
    expect(text).toMatch(/cosignkit_signer_signing_duration_seconds_count [1-9]/);
    expect(text).toMatch(/^cosignkit_signer_in_flight 0$/m);
    expect((await c.request('GET', '/healthz')).status).toBe(200);
    expect((await c.request('GET', '/readyz')).status).toBe(200);
  });
  it('writes structured JSON logs with the audit id and no credentials', () => {
    const lines = s.logLines.map((l) => JSON.parse(l));
    const request = lines.find((l) => l.msg === 'request' && l.status === 200);
    expect(request).toMatchObject({ route: SIGN_ROUTE, outcome: 'signed', tenant: 'dev-tenant' });
    expect(typeof request.auditId).toBe('string');
    expect(s.logLines.join('\n')).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/);
  });
});

describe('load shedding', () => {
  it('answers 503 with Retry-After above maxInFlight, and every answer names its audit id', async () => {
    const t = await startServer((c) => {
      c.maxInFlight = 1;
    });
    const c = await t.client();
    const answers = await Promise.all(Array.from({ length: 12 }, () => c.request('POST', SIGN_ROUTE, signBody(t.env))));
    const shed = answers.filter((a) => a.status === 503);
    expect(shed.length).toBeGreaterThan(0);
    expect(answers.some((a) => a.status === 200)).toBe(true);
    expect(Number(shed[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((shed[0]!.body as any).type).toBe('https://cosignkit.dev/problems/unavailable');
    for (const a of answers) expect(a.headers['x-cosignkit-audit-id']).toBe((a.body as any).auditId);
    const metrics = (await c.request('GET', '/metrics')).body as string;
    expect(metrics).toMatch(/cosignkit_signer_throttled_total\{reason="shed"\} [1-9]/);
    await t.close();
  });
});

describe('graceful drain', () => {
  it('finishes requests in flight, then refuses new ones, and flushes the audit log', async () => {
    const t = await startServer();
    const c = await t.client();
    const inFlight = Array.from({ length: 10 }, () => c.request('POST', SIGN_ROUTE, signBody(t.env)));
    // Close while requests are being processed, not before they arrive.
    const until = Date.now() + 20_000;
    while (t.server.inFlight === 0 && Date.now() < until) await new Promise((r) => setImmediate(r));
    expect(t.server.inFlight).toBeGreaterThan(0);
    const closing = t.server.close();
    const answers = await Promise.all(inFlight.map((p) => p.catch(() => undefined)));
    await closing;
    const ok = answers.filter((a) => a?.status === 200).map((a) => (a!.body as any).auditId as string);
    expect(ok.length).toBeGreaterThan(0);
    const log = await readFile(t.env.files.auditLog, 'utf8');
    for (const id of ok) expect(log).toContain(id);
    // Every request was either answered 200 or 503 (closing); none was cut off half-way.
    for (const a of answers) if (a) expect([200, 503]).toContain(a.status);
    await t.close();
  });
});

describe('config errors stop start-up with one line', () => {
  it('names the file and the field', async () => {
    const file = join(s.env.dir, 'broken.json');
    const broken = structuredClone(s.env.config) as Record<string, any>;
    delete broken.authority.audience;
    await writeFile(file, JSON.stringify(broken));
    const error = await loadServerConfig(file).catch((e: unknown) => e);
    expect(CosignkitError.isInstance(error)).toBe(true);
    expect((error as CosignkitError).code).toBe('USAGE');
    expect((error as Error).message).toBe(`${file}: authority.audience must be a non-empty string`);
    expect(() => parseServerConfig({ ...s.env.config, release: undefined }, s.env.dir)).toThrow(/release/);
    expect(() => parseServerConfig({ ...s.env.config, quotaStore: 'mysql://x' }, s.env.dir)).toThrow(/quotaStore/);
  });
});
