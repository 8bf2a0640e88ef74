import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileKeyManager } from '@cosignkit/key-file';
import { buildStatement, serializeEnvelope, signEnvelope, type Envelope } from '@cosignkit/dsse';
import { PASSWORD, cosign, cosignkit, expectFailure, expectOk, requireCosign, tempHome, type Run } from './helpers.js';

// verify-dsse: the DSSE spec vector, multi-signer envelopes, each policy flag passing and failing, exit codes.
const DSSE_FIXTURES = fileURLToPath(new URL('../../dsse/test/fixtures/', import.meta.url));
let home: ReturnType<typeof tempHome>;
let dir: string;
let manager: FileKeyManager;
let server: Server;
let keysUrl: string;
const env = { COSIGN_PASSWORD: PASSWORD };
const digest = 'c'.repeat(64);

const ok = expectOk;
const ck = (args: string[]) => cosignkit(args, { cwd: dir, env });

async function writeEnvelope(name: string, envelope: Envelope): Promise<string> {
  writeFileSync(join(dir, name), serializeEnvelope(envelope));
  return name;
}

beforeAll(async () => {
  requireCosign();
  home = tempHome();
  dir = home.dir;
  copyFileSync(join(DSSE_FIXTURES, 'spec-vector.envelope.json'), join(dir, 'spec.json'));
  copyFileSync(join(DSSE_FIXTURES, 'spec-vector.pub'), join(dir, 'spec.pub'));
  for (const who of ['alice', 'bob', 'carol']) {
    ok(await cosign(['generate-key-pair', '--output-key-prefix', who], { cwd: dir, env }));
  }
  manager = new FileKeyManager(dir, { secrets: async () => PASSWORD });
  const statement = buildStatement({
    subjects: [{ name: 'app.tgz', digest: { sha256: digest } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: { issued_at: new Date(Date.now() - 2 * 86_400_000).toISOString(), build: { at: Math.floor(Date.now() / 1000) - 3600 } },
  });
  const payload = Buffer.from(JSON.stringify(statement));
  const both = await signEnvelope('application/vnd.in-toto+json', payload, [
    { manager, keyId: 'alice', keyid: 'alice' },
    { manager, keyId: 'bob', keyid: 'bob' },
  ]);
  await writeEnvelope('both.json', both);
  const badBob = { ...both, signatures: [both.signatures[0]!, { keyid: 'bob', sig: flip(both.signatures[1]!.sig) }] };
  await writeEnvelope('bad-bob.json', badBob);
  await writeEnvelope('alice-fp.json', await signEnvelope('application/vnd.in-toto+json', payload, [{ manager, keyId: 'alice' }]));
  await writeEnvelope('plain.json', await signEnvelope('text/plain', Buffer.from('hello'), [{ manager, keyId: 'alice', keyid: 'alice' }]));
  const keymap = JSON.stringify(Object.fromEntries(['alice', 'bob', 'carol'].map((w) => [w, readFileSync(join(dir, `${w}.pub`), 'utf8')])));
  writeFileSync(join(dir, 'keys.json'), keymap);
  writeFileSync(join(dir, 'alice-only.json'), JSON.stringify({ alice: readFileSync(join(dir, 'alice.pub'), 'utf8') }));
  server = createServer((req, res) => {
    if (req.url === '/keys.json') res.writeHead(200, { 'content-type': 'application/json' }).end(keymap);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  keysUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys.json`;
});
afterAll(async () => {
  await manager?.close();
  await new Promise((r) => server?.close(r));
  home?.cleanup();
});

function flip(sig: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(sig);
  copy[copy.length - 1]! ^= 1;
  return copy;
}

describe('verify-dsse: the DSSE specification vector', () => {
  it('verifies (exit 0)', async () => {
    const run = ok(await ck(['verify-dsse', '--dsse', 'spec.json', '--key-file', 'spec.pub']));
    expect(run.stdout).toMatch(/signature 0: valid/);
    expect(run.stdout).toMatch(/Verified OK\n$/);
  });

  it('fails with exit 2 when a byte of payload, payloadType or signature is flipped', async () => {
    const original = JSON.parse(readFileSync(join(dir, 'spec.json'), 'utf8'));
    const flipB64 = (b64: string, i: number) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[i]! ^= 0x01;
      return bytes.toString('base64');
    };
    const cases = {
      payload: { ...original, payload: flipB64(original.payload, 4) },
      payloadType: { ...original, payloadType: original.payloadType.replace('HelloWorld', 'HelloWorle') },
      signature: { ...original, signatures: [{ sig: flipB64(original.signatures[0].sig, 40) }] },
    };
    for (const [name, envelope] of Object.entries(cases)) {
      writeFileSync(join(dir, `spec-${name}.json`), JSON.stringify(envelope));
      expectFailure(await ck(['verify-dsse', '--dsse', `spec-${name}.json`, '--key-file', 'spec.pub']), 2, 'VERIFICATION_FAILED');
    }
  });
});

describe('verify-dsse: trust and signers', () => {
  it('--keys map, --keys-url and --key-file (keyid = fingerprint by default)', async () => {
    ok(await ck(['verify-dsse', '--dsse', 'both.json', '--keys', 'keys.json']));
    ok(await ck(['verify-dsse', '--dsse', 'both.json', '--keys-url', keysUrl]));
    ok(await ck(['verify-dsse', '--dsse', 'alice-fp.json', '--key-file', 'alice.pub']));
    const fp = JSON.parse((await ck(['verify-dsse', '--json', '--dsse', 'alice-fp.json', '--key-file', 'alice.pub'])).stdout);
    ok(await ck(['verify-dsse', '--dsse', 'alice-fp.json', '--key-file', 'alice.pub', '--require-keyid', fp.signatures[0].signer]));
    expect(fp.signatures[0].keyid).toBe(fp.signatures[0].signer);
  });

  it('exits 2 on an unknown keyid, naming it', async () => {
    const run = await ck(['verify-dsse', '--dsse', 'both.json', '--keys', 'alice-only.json']);
    expectFailure(run, 2, /no trusted key has this keyid/);
    expect(run.stdout).toContain('unknown keyid "bob"');
  });

  it('multi-signer with one bad signature fails --require-signers, and --json names each signer and rule', async () => {
    ok(await ck(['verify-dsse', '--dsse', 'both.json', '--keys', 'keys.json', '--require-signers', 'alice,bob']));
    expectFailure(await ck(['verify-dsse', '--dsse', 'both.json', '--keys', 'keys.json', '--require-signers', 'alice,carol']), 2, /carol/);
    const run = await ck(['verify-dsse', '--json', '--dsse', 'bad-bob.json', '--keys', 'keys.json', '--require-signers', 'alice,bob']);
    expect(run.code).toBe(2);
    const result = JSON.parse(run.stdout);
    expect(result.verified).toBe(false);
    expect(result.signatures).toEqual([
      expect.objectContaining({ index: 0, keyid: 'alice', signer: 'alice', valid: true }),
      expect.objectContaining({ index: 1, keyid: 'bob', valid: false, problem: 'invalid' }),
    ]);
    expect(result.unmet.map((u: { rule: string }) => u.rule)).toEqual(['signatures', 'require-signers']);
  });
});

describe('verify-dsse: each policy flag passes and fails', () => {
  const base = ['verify-dsse', '--dsse', 'both.json', '--keys', 'keys.json'];
  it.each([
    ['--require-keyid', ['--require-keyid', 'bob'], ['--require-keyid', 'carol'], /carol/],
    ['--require-subject (name)', ['--require-subject', 'app.tgz'], ['--require-subject', 'lib.tgz'], /no subject named "lib.tgz"/],
    ['--require-subject (name@sha256)', ['--require-subject', `app.tgz@sha256:${digest}`], ['--require-subject', `app.tgz@sha256:${'d'.repeat(64)}`], /does not have digest/],
    ['--require-predicate-type', ['--require-predicate-type', 'https://slsa.dev/provenance/v1'], ['--require-predicate-type', 'https://spdx.dev/Document'], /predicate type is/],
    ['--max-age (default /issued_at)', ['--max-age', '7d'], ['--max-age', '1d'], /more than the allowed 1d/],
    ['--max-age --time-field', ['--max-age', '2h', '--time-field', '/build/at'], ['--max-age', '30m', '--time-field', '/build/at'], /more than the allowed 30m/],
    ['--payload-type', ['--payload-type', 'application/vnd.in-toto+json'], null, null],
  ])('%s', async (_name, pass, fail, message) => {
    ok(await ck([...base, ...pass]));
    if (fail) expectFailure(await ck([...base, ...fail]), 2, message!);
  });
});

describe('verify-dsse --max-age reads the same in every time zone (issue 11)', () => {
  // An 11-hour-old statement: under TZ=Pacific/Pago_Pago (UTC-11) an offset-less issued_at used to read as
  // "now" and pass --max-age 1h.
  const zones = ['Pacific/Pago_Pago', 'Asia/Kathmandu', 'UTC'];
  beforeAll(async () => {
    const at = new Date(Date.now() - 11 * 3_600_000).toISOString();
    for (const [name, issuedAt] of [['tz-local.json', at.replace(/\.\d+Z$/, '')], ['tz-z.json', at]] as const) {
      const statement = buildStatement({ subjects: [{ name: 'app.tgz', digest: { sha256: digest } }], predicateType: 'https://slsa.dev/provenance/v1', predicate: { issued_at: issuedAt } });
      await writeEnvelope(name, await signEnvelope('application/vnd.in-toto+json', Buffer.from(JSON.stringify(statement)), [{ manager, keyId: 'alice', keyid: 'alice' }]));
    }
  });
  it.each(zones)('TZ=%s', async (zone) => {
    const run = (args: string[]) => cosignkit(['verify-dsse', '--keys', 'keys.json', ...args], { cwd: dir, env: { ...env, TZ: zone } });
    for (const maxAge of ['1h', '30d']) {
      expectFailure(await run(['--dsse', 'tz-local.json', '--max-age', maxAge]), 3, /issued_at.* is not an RFC 3339 time with an offset .*\[ENVELOPE_MALFORMED\]$/);
    }
    expectFailure(await run(['--dsse', 'tz-z.json', '--max-age', '1h']), 2, /the statement is 11h old .*more than the allowed 1h/);
    expectFailure(await run(['--dsse', 'tz-z.json', '--max-age', '10h']), 2, /the statement is 11h old/);
    ok(await run(['--dsse', 'tz-z.json', '--max-age', '12h']));
  });
});

describe('verify-dsse: malformed input exits 3 with one line', () => {
  const bad: Record<string, string> = {
    'garbage.json': 'garbage',
    'truncated.json': '{"payloadType":"x","payload":"aGk=","signa',
    'missing-fields.json': '{"payloadType":"x"}',
    'bad-base64.json': '{"payloadType":"x","payload":"a$b=","signatures":[{"sig":"AQID"}]}',
  };
  it.each(Object.keys(bad))('%s', async (name) => {
    writeFileSync(join(dir, name), bad[name]!);
    expectFailure(await ck(['verify-dsse', '--dsse', name, '--keys', 'keys.json']), 3, 'ENVELOPE_MALFORMED');
  });
  it('the wrong payloadType for a statement policy or --payload-type', async () => {
    expectFailure(await ck(['verify-dsse', '--dsse', 'plain.json', '--keys', 'keys.json', '--require-subject', 'x']), 3, /not an in-toto statement/);
    expectFailure(await ck(['verify-dsse', '--dsse', 'plain.json', '--keys', 'keys.json', '--payload-type', 'application/json']), 3, /payloadType is "text\/plain"/);
    ok(await ck(['verify-dsse', '--dsse', 'plain.json', '--keys', 'keys.json']));
  });
  it('a malformed key map', async () => {
    writeFileSync(join(dir, 'bad-keys.json'), '{"alice": 42}');
    expectFailure(await ck(['verify-dsse', '--dsse', 'both.json', '--keys', 'bad-keys.json']), 3, 'KEY_MALFORMED');
  });
  it('usage errors exit 1', async () => {
    expectFailure(await ck(['verify-dsse', '--dsse', 'both.json']), 1, 'USAGE');
    expectFailure(await ck(['verify-dsse', '--dsse', 'both.json', '--keys', 'keys.json', '--max-age', '7 days']), 1, 'USAGE');
  });
});
