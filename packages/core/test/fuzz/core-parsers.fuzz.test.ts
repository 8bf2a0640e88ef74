import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ErrorCode,
  decodeSignature,
  parsePublicKeyPem,
  rawToDer,
  readBundle,
  readConfigFile,
  readSignatureFile,
  verifyPayload,
} from '../../src/index.js';
import { arbitraryText, fuzzParams, mutatedBytes, mutatedJson, mutatedText, settles } from '../helpers/fuzz.js';

// Property tests (issue 11) of core's parsers of user-supplied files: public keys, signature files and
// bundles (Sigstore and cosign's legacy form). Every input either parses or is refused with a stable code
// and a clean one-line message, fast; a mutated signature never verifies unless it decodes to the original.
const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
const PUBLIC_KEY_CODES = new Set<ErrorCode>(['KEY_MALFORMED', 'ALGORITHM_UNSUPPORTED']);
const SIGNATURE_CODES = new Set<ErrorCode>(['SIGNATURE_MALFORMED']);
const BUNDLE_CODES = new Set<ErrorCode>(['BUNDLE_MALFORMED']);

let dir: string;
let counter = 0;
const tempFile = (content: string | Uint8Array): string => {
  const path = join(dir, `input-${counter++}`);
  writeFileSync(path, content);
  return path;
};

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const blob = Buffer.from('the artifact that was signed\n');
const signature = sign('sha256', blob, privateKey);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cosignkit-core-fuzz-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('public key parser (parsePublicKeyPem)', () => {
  const pem = fixture('cosign-labeled.pub');
  it('parses or refuses mutated PEM with KEY_MALFORMED/ALGORITHM_UNSUPPORTED', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedText(pem), arbitraryText), async (text) => {
        await settles(PUBLIC_KEY_CODES, () => parsePublicKeyPem(text, 'key.pub'));
      }),
      fuzzParams(400),
    );
  });

  it('refuses a mutated base64 body unless it still decodes to a key', async () => {
    const body = pem.split('\n').slice(1, -2).join('');
    await fc.assert(
      fc.asyncProperty(mutatedText(body), async (mutated) => {
        const text = `-----BEGIN PUBLIC KEY-----\n${mutated}\n-----END PUBLIC KEY-----\n`;
        await settles(PUBLIC_KEY_CODES, () => parsePublicKeyPem(text, 'key.pub'));
      }),
      fuzzParams(300),
    );
  });
});

describe('signature parser (.sig base64 / DER / raw r‖s)', () => {
  const sigText = signature.toString('base64');
  const original = decodeSignature(Buffer.from(sigText), 'ecdsa-p256-sha256')!;

  it('reads mutated signature files as a signature or SIGNATURE_MALFORMED; none verifies unless unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutatedText(sigText).map((t) => Buffer.from(t)),
          mutatedBytes(signature),
          fc.uint8Array({ maxLength: 80 }),
        ),
        fc.constantFrom('ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'ed25519' as const),
        async (bytes, algorithm) => {
          const path = tempFile(bytes);
          const { value } = await settles(SIGNATURE_CODES, () => readSignatureFile(path, algorithm));
          rmSync(path);
          if (value && verifyPayload(publicKey, blob, value)) {
            // Only a different spelling of the same signature (whitespace, padding bits, raw vs DER) may pass.
            expect(value.equals(original)).toBe(true);
          }
        },
      ),
      fuzzParams(400),
    );
  });

  it('decodeSignature never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const result = decodeSignature(bytes, 'ecdsa-p256-sha256');
        expect(result === undefined || Buffer.isBuffer(result)).toBe(true);
      }),
      fuzzParams(500),
    );
  });
});

describe('bundle parser (readBundle)', () => {
  it('reads mutated Sigstore message-signature bundles or refuses them with BUNDLE_MALFORMED', async () => {
    const bundle = fixture('bundle_v3.txt.sigstore');
    await fc.assert(
      fc.asyncProperty(mutatedJson(bundle), async (text) => {
        const path = tempFile(text);
        await settles(BUNDLE_CODES, () => readBundle(path, 'ecdsa-p256-sha256'));
        rmSync(path);
      }),
      fuzzParams(300),
    );
  });

  it('refuses mutated DSSE bundles and arbitrary text with BUNDLE_MALFORMED', async () => {
    const bundle = fixture('bundleV03-dsse.sigstore');
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedJson(bundle), arbitraryText), async (text) => {
        const path = tempFile(text);
        await settles(BUNDLE_CODES, () => readBundle(path, 'ecdsa-p256-sha256'));
        rmSync(path);
      }),
      fuzzParams(200),
    );
  });

  it('a mutated key bundle never yields another signature that verifies', async () => {
    const digest = createHash('sha256').update(blob).digest('base64');
    const sigstore = JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: 'aGludA==' }, tlogEntries: [] },
      messageSignature: {
        messageDigest: { algorithm: 'SHA2_256', digest },
        signature: signature.toString('base64'),
      },
    });
    const legacy = JSON.stringify({ base64Signature: signature.toString('base64'), cert: 'Y2VydA==' });
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedJson(sigstore), mutatedJson(legacy)), async (text) => {
        const path = tempFile(text);
        const { value } = await settles(BUNDLE_CODES, () => readBundle(path, 'ecdsa-p256-sha256'));
        rmSync(path);
        if (value && verifyPayload(publicKey, blob, value.signature))
          expect(value.signature.equals(signature)).toBe(true);
      }),
      fuzzParams(400),
    );
  });
});

/** The two INTEGERs of a DER `SEQUENCE { r, s }`, read strictly: any other shape fails the property. */
function derIntegers(der: Uint8Array): bigint[] {
  expect(der[0]).toBe(0x30);
  const long = der[1] === 0x81;
  const bodyStart = long ? 3 : 2;
  expect(long ? der[2]! >= 0x80 : der[1]! < 0x80).toBe(true); // the shortest length form
  expect(der.length - bodyStart).toBe(long ? der[2] : der[1]);
  const values: bigint[] = [];
  let at = bodyStart;
  while (at < der.length) {
    expect(der[at]).toBe(0x02);
    const length = der[at + 1]!;
    const bytes = der.subarray(at + 2, at + 2 + length);
    expect(bytes.length).toBe(length);
    expect(bytes[0]! & 0x80).toBe(0); // positive
    if (length > 1) expect(bytes[0] === 0 && (bytes[1]! & 0x80) === 0).toBe(false); // minimal
    values.push(BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`));
    at += 2 + length;
  }
  return values;
}

describe('raw r‖s to DER (rawToDer: a token or TPM answer)', () => {
  const halves = (raw: Uint8Array) => [raw.subarray(0, raw.length / 2), raw.subarray(raw.length / 2)];
  const asNumber = (bytes: Uint8Array) => BigInt(`0x${Buffer.from(bytes).toString('hex')}`);

  it('turns any even-length r‖s into the DER of the same two integers, and refuses the rest', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 140 }), async (raw) => {
        const { value, code } = await settles(SIGNATURE_CODES, () => rawToDer(raw));
        if (raw.length === 0 || raw.length % 2 !== 0) {
          expect(code).toBe('SIGNATURE_MALFORMED');
          return;
        }
        expect(derIntegers(value!)).toEqual(halves(raw).map(asNumber));
      }),
      fuzzParams(500),
    );
  });

  it('reads a range of a larger array as it reads a copy of that range', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ minLength: 2, maxLength: 132 }),
        fc.uint8Array({ maxLength: 40 }),
        (before, raw, after) => {
          const even = raw.subarray(0, raw.length - (raw.length % 2));
          const around = Buffer.concat([before, even, after]);
          expect(rawToDer(around, before.length, before.length + even.length)).toEqual(rawToDer(even));
        },
      ),
      fuzzParams(300),
    );
  });
});

describe('config file reader (readConfigFile)', () => {
  const CONFIG_CODES = new Set<ErrorCode>(['USAGE', 'IO']);
  const config = JSON.stringify({ defaultKey: 'file:cosign.key', backends: { file: '@cosignkit/key-file' } });

  it('reads mutated config files as an object or refuses them with USAGE', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedJson(config), arbitraryText), async (text) => {
        const { value, code } = await settles(CONFIG_CODES, () => readConfigFile(tempFile(text)));
        if (code === undefined) expect(typeof value === 'object' && value !== null && !Array.isArray(value)).toBe(true);
        else expect(code).toBe('USAGE');
      }),
      fuzzParams(300),
    );
  });
});
