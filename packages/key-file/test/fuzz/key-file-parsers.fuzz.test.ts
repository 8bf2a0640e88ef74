import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicKeyPem, type ErrorCode } from '@cosignkit/core';
import { arbitraryText, fuzzParams, mutatedJson, mutatedText, settles } from '../../../core/test/helpers/fuzz.js';
import { decryptCosignKey, importKeyPair } from '../../src/index.js';
import { fixture } from '../helpers.js';

// Property tests (issue 11) of the private key readers: cosign's encrypted key files (both labels; the PEM,
// the JSON envelope inside it, its base64 fields and scrypt parameters mutated) and the plain PEM keys
// import-key-pair reads (PKCS#8, SEC1). Each input decrypts to the original key or is refused with a stable
// code and a clean one-line message. scrypt makes a run that gets that far cost ~50 ms, so the budget caps
// the number of runs rather than numRuns.
const DECRYPT_CODES = new Set<ErrorCode>([
  'KEY_MALFORMED',
  'KEY_UNSUPPORTED',
  'PASSWORD_INCORRECT',
  'ALGORITHM_UNSUPPORTED',
]);
const IMPORT_CODES = new Set<ErrorCode>(['KEY_MALFORMED', 'KEY_UNSUPPORTED', 'ALGORITHM_UNSUPPORTED']);

const keyPem = readFileSync(fixture('cosign-labeled.key'), 'utf8');
const pubPem = readFileSync(fixture('cosign-labeled.pub'), 'utf8');
/** The JSON inside the PEM: mutated structurally, then wrapped in a well-formed PEM again. */
const [label] = /ENCRYPTED [A-Z]+ PRIVATE KEY/.exec(keyPem)!;
const innerJson = Buffer.from(keyPem.split('\n').slice(1, -2).join(''), 'base64').toString('utf8');
const wrap = (json: string) =>
  `-----BEGIN ${label}-----\n${Buffer.from(json)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')}\n-----END ${label}-----\n`;

let dir: string;
let counter = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cosignkit-key-file-fuzz-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cosign encrypted key files (decryptCosignKey)', () => {
  it('mutated PEM text: the same key or KEY_MALFORMED/KEY_UNSUPPORTED/PASSWORD_INCORRECT', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedText(keyPem), arbitraryText), async (text) => {
        const { value } = await settles(DECRYPT_CODES, () => decryptCosignKey(text, 'hello', 'k.key'));
        if (value) expect(publicKeyPem(createPublicKey(value.privateKey))).toBe(pubPem);
      }),
      fuzzParams(200),
    );
  });

  it('mutated key JSON (kdf, cipher, salt, nonce, ciphertext) in a well-formed PEM', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedJson(innerJson), async (json) => {
        const { value } = await settles(DECRYPT_CODES, () => decryptCosignKey(wrap(json), 'hello', 'k.key'));
        // Authenticated encryption: whatever still decrypts is the original key.
        if (value) expect(publicKeyPem(createPublicKey(value.privateKey))).toBe(pubPem);
      }),
      fuzzParams(200),
    );
  });

  it('a hostile kdf or cipher name is KEY_UNSUPPORTED with the name escaped', async () => {
    for (const field of ['kdf', 'cipher'] as const) {
      const json = JSON.parse(innerJson) as Record<string, { name: string }>;
      json[field]!.name = '\u001b[2J\nVerified OK\u009b';
      const { code } = await settles(DECRYPT_CODES, () => decryptCosignKey(wrap(JSON.stringify(json)), 'hello'));
      expect(code).toBe('KEY_UNSUPPORTED');
    }
  });
});

describe('plain PEM private keys (import-key-pair)', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const sec1 = privateKey.export({ type: 'sec1', format: 'pem' }) as string;
  const expected = publicKeyPem(createPublicKey(privateKey));

  it('mutated PKCS#8 and SEC1 PEM: imported as the same key or refused with a stable code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedText(pkcs8), mutatedText(sec1), arbitraryText), async (text) => {
        const input = join(dir, `in-${counter}.pem`);
        const outputPrefix = join(dir, `out-${counter++}`);
        writeFileSync(input, text);
        const { value } = await settles(IMPORT_CODES, () => importKeyPair({ input, outputPrefix, password: '' }));
        if (value) expect(value.publicKeyPem).toBe(expected);
      }),
      fuzzParams(200),
    );
  });
});
