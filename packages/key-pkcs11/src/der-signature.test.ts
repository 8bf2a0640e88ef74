import { rawToDer } from '@cosignkit/core';
import { describe, expect, it } from 'vitest';
import { derFromRaw } from './der-signature.js';

/** r‖s halves of `size` bytes: random, with leading zeros, with the top bit set, all zero. */
function samples(size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let n = 0; n < 200; n++) {
    const raw = new Uint8Array(2 * size);
    for (let i = 0; i < raw.length; i++) raw[i] = Math.floor(Math.random() * 256);
    const zeros = n % 7;
    raw.fill(0, 0, Math.min(zeros, size)); // r with leading zero bytes
    if (n % 3 === 0) raw[size] = 0x80 | raw[size]!; // s with its top bit set
    if (n % 5 === 0) raw.fill(0, size); // s all zero
    out.push(raw);
  }
  return out;
}

describe('derFromRaw', () => {
  it("writes the same DER as core's rawToDer for P-256, P-384 and longer r‖s", () => {
    for (const size of [32, 48, 66]) {
      for (const raw of samples(size)) expect(Buffer.from(derFromRaw(raw))).toEqual(Buffer.from(rawToDer(raw)));
    }
  });

  it('reads r‖s in place from a range of a larger array', () => {
    const [raw] = samples(32);
    const around = new Uint8Array(5 + raw!.length + 7).fill(0xee);
    around.set(raw!, 5);
    expect(Buffer.from(derFromRaw(around, 5, 5 + raw!.length))).toEqual(Buffer.from(rawToDer(raw!)));
  });

  it('refuses an empty or odd-length r‖s with SIGNATURE_MALFORMED', () => {
    for (const raw of [new Uint8Array(0), new Uint8Array(63)]) {
      expect(() => derFromRaw(raw)).toThrow(expect.objectContaining({ code: 'SIGNATURE_MALFORMED' }));
    }
  });
});
