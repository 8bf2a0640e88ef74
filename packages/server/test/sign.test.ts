import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { envelopeDigest, envelopeFromJson, verifyLog } from '@cosignkit/dsse';
import { SIGN_ROUTE } from '../src/index.js';
import { signBody, startServer, type Running } from './harness.js';

let s: Running;
beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => {
  await s?.close();
});

describe('sign/dsse (mTLS-bound OpTok, licence JWT)', () => {
  it('signs, answers with envelope, bundle, identity, quota and an audit id that is in the log', async () => {
    const client = await s.client();
    const res = await client.request('POST', SIGN_ROUTE, signBody(s.env));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const body = res.body as any;
    expect(body.envelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(body.identity.mode).toBe('kms');
    expect(body.quota.plan).toBe('dev');
    const statement = JSON.parse(Buffer.from(body.envelope.payload, 'base64').toString());
    expect(statement.subject[0].digest.sha256).toBe('a'.repeat(64));
    const log = await readFile(s.env.files.auditLog, 'utf8');
    expect(log).toContain(`"id":"${body.auditId}"`);
    // The entry names the returned envelope by dsse's digest of it (what verify-log --dsse looks for).
    const entry = log
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e) => e.record?.id === body.auditId);
    expect(entry.envelope).toBe(`sha256:${envelopeDigest(envelopeFromJson(body.envelope))}`);
    expect((await verifyLog(s.env.files.auditLog)).intact).toBe(true);
  });
});
