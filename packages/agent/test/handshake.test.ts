import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NONCE, clientProof, newNonce, proofMatches, serverProof } from '../src/handshake.js';

// The handshake's HMAC moved from node:crypto to @noble/hashes (issue 19): the proofs on the wire must stay the
// very same bytes, or a plugin and an agent of the two versions would refuse each other.
describe('the agent handshake', () => {
  it('proves with HMAC-SHA-256 exactly as node:crypto computes it', () => {
    for (let i = 0; i < 20; i++) {
      const token = randomBytes(32);
      const [client, server] = [newNonce(), newNonce()];
      for (const [role, proof] of [
        ['server', serverProof],
        ['client', clientProof],
      ] as const) {
        const expected = createHmac('sha256', token)
          .update(`cosignkit-agent/2 ${role}\n${client}\n${server}`)
          .digest('hex');
        expect(proof(token, client, server)).toBe(expected);
      }
    }
  });

  it('makes fresh 32-byte nonces', () => {
    const nonces = new Set(Array.from({ length: 100 }, () => newNonce()));
    expect(nonces.size).toBe(100);
    for (const nonce of nonces) expect(nonce).toMatch(NONCE);
  });

  it('accepts only the expected proof', () => {
    const expected = serverProof(randomBytes(32), newNonce(), newNonce());
    expect(proofMatches(expected, expected)).toBe(true);
    const flipped = `${expected.slice(0, -1)}${expected.endsWith('0') ? '1' : '0'}`;
    for (const given of [flipped, expected.slice(1), `${expected}0`, expected.toUpperCase(), '', 42, undefined, null])
      expect(proofMatches(expected, given)).toBe(false);
  });
});
