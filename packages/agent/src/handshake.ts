import { closeSync, openSync, readSync } from 'node:fs';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';

/**
 * Mutual proof of the token before anything secret travels. Node cannot ask the kernel who listens on a Unix
 * socket, so the client makes the server prove it can read the owner-only token file: it sends a fresh nonce,
 * the server answers with its own nonce and HMAC(token, "server" ‖ both nonces), and only when that matches
 * does the client send its request, with HMAC(token, "client" ‖ both nonces) in place of the token. A fake
 * agent learns neither the token nor a password; the labels keep one side's proof from serving as the other's.
 *
 * Without node:crypto (issue 19): the KMS plugin is a process per cosign operation, and loading node:crypto
 * (its JS and OpenSSL's set-up) was a fifth of a call through the agent. Two HMAC-SHA-256s on ~200 bytes
 * cost nothing in @noble/hashes (audited, bundled); the nonce comes from the kernel's CSPRNG.
 */

export const NONCE = /^[0-9a-f]{64}$/;

export function newNonce(): string {
  return Buffer.from(randomBytes(32)).toString('hex');
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
  // Every character is looked at whatever differs: the time says nothing about where a forged proof goes wrong.
  let difference = 0;
  for (let i = 0; i < expected.length; i++) difference |= expected.charCodeAt(i) ^ given.charCodeAt(i);
  return difference === 0;
}

function proof(token: Uint8Array, role: 'server' | 'client', clientNonce: string, serverNonce: string): string {
  const message = Buffer.from(`cosignkit-agent/2 ${role}\n${clientNonce}\n${serverNonce}`, 'utf8');
  return Buffer.from(hmac(sha256, token, message)).toString('hex');
}

/**
 * `length` bytes from the kernel's CSPRNG (getrandom's pool, as node:crypto's randomBytes): /dev/urandom where
 * there is one, else node:crypto (Windows), loaded only then.
 */
function randomBytes(length: number): Uint8Array {
  const bytes = Buffer.alloc(length);
  let fd: number | undefined;
  try {
    fd = openSync('/dev/urandom', 'r');
  } catch {
    return process.getBuiltinModule('node:crypto').randomBytes(length);
  }
  try {
    for (let filled = 0; filled < length; ) {
      const read = readSync(fd, bytes, filled, length - filled, null);
      if (read <= 0) throw new Error('/dev/urandom gave no bytes');
      filled += read;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}
