import { describe, expect, it } from 'vitest';
import { CosignkitError } from '@cosignkit/core';
import { decodeBase64, parseEnvelope, serializeEnvelope } from '../src/index.js';

function malformed(text: string): CosignkitError {
  try {
    parseEnvelope(text);
  } catch (error) {
    expect(CosignkitError.isInstance(error)).toBe(true);
    return error as CosignkitError;
  }
  throw new Error(`parsed: ${text}`);
}

const good = {
  payloadType: 't',
  payload: Buffer.from('hello').toString('base64'),
  signatures: [{ keyid: 'k', sig: 'AQID' }],
};

describe('envelope parsing', () => {
  it('reads and writes the cosign field order', () => {
    const envelope = parseEnvelope(JSON.stringify(good));
    expect(Buffer.from(envelope.payload).toString()).toBe('hello');
    expect(serializeEnvelope(envelope)).toBe(
      '{"payloadType":"t","payload":"aGVsbG8=","signatures":[{"keyid":"k","sig":"AQID"}]}',
    );
  });

  it('accepts URL-safe and unpadded base64', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xfe, 0x01]);
    const urlSafe = bytes.toString('base64url');
    expect(urlSafe).toMatch(/[-_]/);
    const envelope = parseEnvelope(JSON.stringify({ ...good, payload: urlSafe, signatures: [{ sig: urlSafe }] }));
    expect(Buffer.from(envelope.payload)).toEqual(bytes);
    expect(Buffer.from(envelope.signatures[0]!.sig)).toEqual(bytes);
    expect(decodeBase64('aGVsbG8', 'x').toString()).toBe('hello');
  });

  it.each([
    ['garbage', 'this is not json', /not valid JSON/],
    ['empty', '', /is empty/],
    ['truncated JSON', JSON.stringify(good).slice(0, 30), /not valid JSON/],
    ['an array', '[]', /not a JSON object/],
    ['no payloadType', JSON.stringify({ ...good, payloadType: undefined }), /payloadType/],
    ['no payload', JSON.stringify({ ...good, payload: undefined }), /"payload"/],
    ['no signatures', JSON.stringify({ ...good, signatures: undefined }), /signatures/],
    ['zero signatures', JSON.stringify({ ...good, signatures: [] }), /no signatures/],
    ['a signature without sig', JSON.stringify({ ...good, signatures: [{ keyid: 'k' }] }), /no "sig"/],
    ['a numeric keyid', JSON.stringify({ ...good, signatures: [{ keyid: 1, sig: 'AQID' }] }), /keyid/],
    ['bad base64 payload', JSON.stringify({ ...good, payload: 'a$b=' }), /payload is not valid base64/],
    [
      'bad base64 signature',
      JSON.stringify({ ...good, signatures: [{ sig: 'A' }] }),
      /signature 0 is not valid base64/,
    ],
    ['mixed base64 alphabets', JSON.stringify({ ...good, payload: 'ab+_' }), /not valid base64/],
  ])('refuses %s with ENVELOPE_MALFORMED and one line', (_name, text, message) => {
    const error = malformed(text);
    expect(error.code).toBe('ENVELOPE_MALFORMED');
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/\n/);
  });
});

describe('envelope files', () => {
  it('reads bare, base64, bundle and legacy-bundle forms, and says "not valid JSON" for garbage', async () => {
    const { envelopeFromText, serializeDsseBundle, serializeLegacyAttestationBundle, trustedKey } = await import(
      '../src/index.js'
    );
    const { generateKeyPairSync } = await import('node:crypto');
    const text = JSON.stringify(good);
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const envelope = parseEnvelope(text);
    expect(envelopeFromText(Buffer.from(text)).form).toBe('envelope');
    expect(envelopeFromText(Buffer.from(Buffer.from(text).toString('base64'))).form).toBe('base64-envelope');
    const bundle = envelopeFromText(Buffer.from(serializeDsseBundle(envelope, publicKey)));
    expect(bundle.form).toBe('bundle');
    expect(bundle.bundle?.publicKeyHint).toBeDefined();
    expect(Buffer.from(bundle.envelope.payload).toString()).toBe('hello');
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(envelopeFromText(Buffer.from(serializeLegacyAttestationBundle(text, pem))).form).toBe('legacy-bundle');
    expect(trustedKey(pem).algorithm).toBe('ecdsa-p256-sha256');
    expect(() => envelopeFromText(Buffer.from('garbage'))).toThrow(/envelope is not valid JSON/);
  });
});
