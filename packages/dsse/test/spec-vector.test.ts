import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pae, parseEnvelope, trustedKey, verifyEnvelope, type Envelope } from '../src/index.js';
import { FIXTURES } from './helpers.js';

const envelopeText = readFileSync(join(FIXTURES, 'spec-vector.envelope.json'), 'utf8');
const key = trustedKey(readFileSync(join(FIXTURES, 'spec-vector.pub'), 'utf8'));

function verifies(envelope: Envelope): boolean {
  return verifyEnvelope(envelope, [key]).allValid;
}

describe('the DSSE specification test vector', () => {
  it('has the PAE the spec gives', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });

  it('verifies (ECDSA P-256 in raw r‖s)', () => {
    const envelope = parseEnvelope(envelopeText);
    expect(envelope.signatures[0]!.sig.length).toBe(64);
    const result = verifyEnvelope(envelope, [key]);
    expect(result.allValid).toBe(true);
    expect(result.signatures[0]).toMatchObject({ valid: true, signer: key.fingerprint });
  });

  it('fails when any byte of the payload, payloadType or signature is flipped', () => {
    const base = parseEnvelope(envelopeText);
    for (let i = 0; i < base.payload.length; i++) {
      const payload = Uint8Array.from(base.payload);
      payload[i]! ^= 0x01;
      expect(verifies({ ...base, payload }), `payload byte ${i}`).toBe(false);
    }
    for (let i = 0; i < base.payloadType.length; i++) {
      const chars = [...base.payloadType];
      chars[i] = String.fromCharCode(chars[i]!.charCodeAt(0) ^ 0x01);
      expect(verifies({ ...base, payloadType: chars.join('') }), `payloadType byte ${i}`).toBe(false);
    }
    const sig = base.signatures[0]!.sig;
    for (let i = 0; i < sig.length; i++) {
      const flipped = Uint8Array.from(sig);
      flipped[i]! ^= 0x01;
      expect(verifies({ ...base, signatures: [{ sig: flipped }] }), `signature byte ${i}`).toBe(false);
    }
  });
});
