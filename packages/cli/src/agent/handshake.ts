import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Mutual proof of the token before anything secret travels. Node cannot ask the kernel who listens on a Unix
 * socket, so the client makes the server prove it can read the owner-only token file: it sends a fresh nonce,
 * the server answers with its own nonce and HMAC(token, "server" ‖ both nonces), and only when that matches
 * does the client send its request, with HMAC(token, "client" ‖ both nonces) in place of the token. A fake
 * agent learns neither the token nor a password; the labels keep one side's proof from serving as the other's.
 */

export const NONCE = /^[0-9a-f]{64}$/;

export function newNonce(): string {
  return randomBytes(32).toString('hex');
}

export function serverProof(token: Uint8Array, clientNonce: string, serverNonce: string): string {
  return proof(token, 'server', clientNonce, serverNonce);
}

export function clientProof(token: Uint8Array, clientNonce: string, serverNonce: string): string {
  return proof(token, 'client', clientNonce, serverNonce);
}

/** Constant-time comparison of a proof received (anything) with the one expected. */
export function proofMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length !== expected.length || !/^[0-9a-f]+$/.test(given)) return false;
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(given, 'hex'));
}

function proof(token: Uint8Array, role: 'server' | 'client', clientNonce: string, serverNonce: string): string {
  return createHmac('sha256', token).update(`cosignkit-agent/2 ${role}\n${clientNonce}\n${serverNonce}`).digest('hex');
}
