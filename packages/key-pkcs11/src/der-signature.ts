import { CosignkitError } from '@cosignkit/core';

/**
 * The DER `SEQUENCE { INTEGER r, INTEGER s }` cosign expects, from the raw r‖s a token returns (CKM_ECDSA), the
 * same bytes as core's `rawToDer`, written into one array; of `raw[from..to)` when given (a reply read in place).
 * Core's assembles it from a dozen small Buffers, about
 * 2.5 kB of garbage per signature: at thousands of signatures a second that was most of what the main thread
 * allocated per signature, and each scavenge it brought was an event-loop stall (issue 19).
 */
export function derFromRaw(raw: Uint8Array, from = 0, to = raw.length): Uint8Array {
  const length = to - from;
  if (length <= 0 || length % 2 !== 0) {
    throw new CosignkitError('SIGNATURE_MALFORMED', `raw ECDSA signature has odd length ${Math.max(0, length)}`);
  }
  const half = from + length / 2;
  const rStart = firstSignificant(raw, from, half);
  const sStart = firstSignificant(raw, half, to);
  // A leading 0x00 keeps an integer with its top bit set positive.
  const rPad = raw[rStart]! & 0x80 ? 1 : 0;
  const sPad = raw[sStart]! & 0x80 ? 1 : 0;
  const rLength = half - rStart + rPad;
  const sLength = to - sStart + sPad;
  const body = 2 + rLength + 2 + sLength;
  // P-256 and P-384 bodies are under 128 bytes (short-form length); a longer one takes the 0x81 form.
  const header = body < 0x80 ? 2 : 3;
  const der = new Uint8Array(header + body);
  der[0] = 0x30;
  if (header === 2) der[1] = body;
  else {
    der[1] = 0x81;
    der[2] = body;
  }
  let at = header;
  der[at++] = 0x02;
  der[at++] = rLength;
  at += rPad; // the array starts zeroed
  // Byte loops, not set(subarray): a view is an allocation too.
  for (let i = rStart; i < half; i++) der[at++] = raw[i]!;
  der[at++] = 0x02;
  der[at++] = sLength;
  at += sPad;
  for (let i = sStart; i < to; i++) der[at++] = raw[i]!;
  return der;
}

/** Where an integer's significant bytes start: leading zeros dropped, at least one byte kept. */
function firstSignificant(raw: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end - 1 && raw[i] === 0) i++;
  return i;
}
