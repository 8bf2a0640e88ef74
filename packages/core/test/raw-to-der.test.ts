import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rawToDer } from '../src/index.js';

/** The DER the straightforward way (a Buffer per part), as the oracle for the one-array writer. */
function referenceDer(raw: Uint8Array): Buffer {
  const half = raw.length / 2;
  const integer = (bytes: Uint8Array): Buffer => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const trimmed = Buffer.from(bytes.subarray(i));
    const body = trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const sequence = Buffer.concat([integer(raw.subarray(0, half)), integer(raw.subarray(half))]);
  const length = sequence.length < 0x80 ? Buffer.from([sequence.length]) : Buffer.from([0x81, sequence.length]);
  return Buffer.concat([Buffer.from([0x30]), length, sequence]);
}

/** r‖s halves of `size` bytes: random, with leading zeros, with the top bit set, all zero. */
function samples(size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let n = 0; n < 200; n++) {
    const raw = new Uint8Array(2 * size);
    for (let i = 0; i < raw.length; i++) raw[i] = Math.floor(Math.random() * 256);
    raw.fill(0, 0, Math.min(n % 7, size)); // r with leading zero bytes
    if (n % 3 === 0) raw[size] = 0x80 | raw[size]!; // s with its top bit set
    if (n % 5 === 0) raw.fill(0, size); // s all zero
    out.push(raw);
  }
  return out;
}

describe('rawToDer', () => {
  it('writes the DER of r‖s for P-256, P-384 and P-521 sizes, leading zeros and top bits included', () => {
    for (const size of [32, 48, 66]) {
      for (const raw of samples(size)) expect(Buffer.from(rawToDer(raw))).toEqual(referenceDer(raw));
    }
  });

  it("gives what node:crypto verifies as DER for OpenSSL's own raw signatures", () => {
    for (const namedCurve of ['P-256', 'P-384']) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
      for (let n = 0; n < 20; n++) {
        const message = Buffer.from(`message ${n}`);
        const raw = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        expect(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, rawToDer(raw))).toBe(true);
      }
    }
  });

  it('reads r‖s in place from a range of a larger array', () => {
    const [raw] = samples(32);
    const around = new Uint8Array(5 + raw!.length + 7).fill(0xee);
    around.set(raw!, 5);
    expect(Buffer.from(rawToDer(around, 5, 5 + raw!.length))).toEqual(referenceDer(raw!));
  });

  it('refuses an empty or odd-length r‖s with SIGNATURE_MALFORMED', () => {
    for (const raw of [new Uint8Array(0), new Uint8Array(63)]) {
      expect(() => rawToDer(raw)).toThrow(expect.objectContaining({ code: 'SIGNATURE_MALFORMED' }));
    }
  });
});
