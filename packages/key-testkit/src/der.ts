import { ConformanceError } from './conformance-error.js';

/**
 * Checks an ECDSA signature is a strict ASN.1 DER SEQUENCE of two minimal positive INTEGERs no longer than
 * the curve allows. A raw r‖s signature (what PKCS#11 and WebCrypto return) fails here with a clear message.
 */
export function assertDerEcdsaSignature(signature: Uint8Array, coordinateLength: number): void {
  const fail = (why: string): never => {
    const hint =
      signature.length === 2 * coordinateLength && signature[0] !== 0x30
        ? ' (looks like raw r||s: convert with rawToDer)'
        : '';
    throw new ConformanceError(`signature is not ASN.1 DER ECDSA: ${why}${hint}`);
  };
  let at = 0;
  const byte = (): number => {
    if (at >= signature.length) fail('truncated');
    return signature[at++]!;
  };
  const length = (): number => {
    const first = byte();
    if (first < 0x80) return first;
    if (first !== 0x81) fail('length longer than one byte');
    const value = byte();
    if (value < 0x80) fail('non-minimal length');
    return value;
  };
  if (byte() !== 0x30) fail('does not start with a SEQUENCE');
  const seqLength = length();
  if (at + seqLength !== signature.length)
    fail(`SEQUENCE length ${seqLength} does not match ${signature.length - at} remaining bytes`);
  for (const name of ['r', 's']) {
    if (byte() !== 0x02) fail(`${name} is not an INTEGER`);
    const len = length();
    if (len === 0 || at + len > signature.length) fail(`${name} has a bad length`);
    const first = signature[at]!;
    if (first & 0x80) fail(`${name} is negative`);
    if (first === 0 && len > 1 && !(signature[at + 1]! & 0x80)) fail(`${name} is not minimally encoded`);
    const significant = first === 0 ? len - 1 : len;
    if (significant > coordinateLength) fail(`${name} is longer than ${coordinateLength} bytes`);
    at += len;
  }
  if (at !== signature.length) fail('trailing bytes');
}
