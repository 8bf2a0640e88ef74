import { createPublicKey, verify as cryptoVerify, createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyAlgorithm } from '@cosignkit/core';
import type { FileKeyManager } from '@cosignkit/key-file';
import { pae, parseKeyMap, signEnvelope, trustedKey, verifyEnvelope } from '../src/index.js';
import { fileKeys, tempDir } from './helpers.js';

let cleanup: () => Promise<void>;
let manager: FileKeyManager;
let keys: Record<string, { keyId: string; fingerprint: string; pem: string }>;
const ALGS: KeyAlgorithm[] = ['ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'ed25519'];

beforeAll(async () => {
  const t = await tempDir();
  cleanup = t.cleanup;
  ({ manager, keys } = await fileKeys(t.dir, ALGS));
});
afterAll(async () => {
  await manager.close();
  await cleanup();
});

const payload = Buffer.from('{"hello":"world"}');

describe('signing and verifying envelopes with file keys', () => {
  it.each(ALGS)('%s: signs the PAE and verifies; keyid is the fingerprint', async (alg) => {
    const k = keys[alg]!;
    const envelope = await signEnvelope('application/x-test', payload, [{ manager, keyId: k.keyId }]);
    expect(envelope.signatures[0]!.keyid).toBe(k.fingerprint);
    const result = verifyEnvelope(envelope, [trustedKey(k.pem)]);
    expect(result).toMatchObject({ allValid: true, validSigners: [k.fingerprint] });
    // The signature is over the PAE, checked independently with node:crypto.
    const message = pae('application/x-test', payload);
    const hash = alg === 'ed25519' ? null : alg === 'ecdsa-p256-sha256' ? 'sha256' : 'sha384';
    expect(cryptoVerify(hash, message, createPublicKey(k.pem), envelope.signatures[0]!.sig)).toBe(true);
    if (alg !== 'ed25519') expect(envelope.signatures[0]!.sig[0]).toBe(0x30); // DER
  });

  it('accepts ECDSA in raw r‖s as well as DER', async () => {
    const k = keys['ecdsa-p384-sha384']!;
    const envelope = await signEnvelope('t', payload, [{ manager, keyId: k.keyId, keyid: '' }]);
    const der = envelope.signatures[0]!.sig;
    const raw = derToRaw(der, 48);
    expect(verifyEnvelope({ ...envelope, signatures: [{ sig: raw }] }, [trustedKey(k.pem)]).allValid).toBe(true);
    raw[10]! ^= 1;
    expect(verifyEnvelope({ ...envelope, signatures: [{ sig: raw }] }, [trustedKey(k.pem)]).allValid).toBe(false);
  });

  it('P-384 can sign over SHA-256 (as cosign does) and both hashes verify', async () => {
    const k = keys['ecdsa-p384-sha384']!;
    const envelope = await signEnvelope('t', payload, [{ manager, keyId: k.keyId, hash: 'sha256' }]);
    expect(cryptoVerify('sha256', pae('t', payload), createPublicKey(k.pem), envelope.signatures[0]!.sig)).toBe(true);
    expect(verifyEnvelope(envelope, [trustedKey(k.pem)]).allValid).toBe(true);
    // …but a P-256 signature over SHA-384 is not accepted: only cosign's SHA-256 fallback is.
    const p256 = keys['ecdsa-p256-sha256']!;
    const odd = await signEnvelope('t', payload, [{ manager, keyId: p256.keyId, hash: 'sha384' }]).catch(
      () => undefined,
    );
    if (odd) expect(verifyEnvelope(odd, [trustedKey(p256.pem)]).allValid).toBe(false);
  });

  it('signs with several keys and reports each signature', async () => {
    const signers = ALGS.map((a) => ({ manager, keyId: keys[a]!.keyId, keyid: a }));
    const envelope = await signEnvelope('t', payload, signers);
    const map = parseKeyMap(JSON.stringify(Object.fromEntries(ALGS.map((a) => [a, keys[a]!.pem]))));
    const good = verifyEnvelope(envelope, map);
    expect(good.allValid).toBe(true);
    expect(good.validSigners.sort()).toEqual([...ALGS].sort());

    const tampered = {
      ...envelope,
      signatures: envelope.signatures.map((s, i) => (i === 1 ? { ...s, sig: flip(s.sig) } : s)),
    };
    const bad = verifyEnvelope(tampered, map);
    expect(bad.allValid).toBe(false);
    expect(bad.signatures.map((s) => s.valid)).toEqual([true, false, true]);
    expect(bad.signatures[1]).toMatchObject({ keyid: 'ecdsa-p384-sha384', problem: 'invalid' });
    expect(bad.validSigners).not.toContain('ecdsa-p384-sha384');
  });

  it('reports an unknown keyid, and tries every key for a signature without one', async () => {
    const k = keys['ecdsa-p256-sha256']!;
    const envelope = await signEnvelope('t', payload, [{ manager, keyId: k.keyId, keyid: 'nobody' }]);
    const map = parseKeyMap(JSON.stringify({ someone: k.pem }));
    expect(verifyEnvelope(envelope, map).signatures[0]).toMatchObject({ valid: false, problem: 'unknown-keyid' });
    const anonymous = { ...envelope, signatures: [{ sig: envelope.signatures[0]!.sig }] };
    expect(verifyEnvelope(anonymous, map).signatures[0]).toMatchObject({ valid: true, signer: 'someone' });
    // One key given directly (cosign's --key) is tried whatever the keyid says.
    expect(verifyEnvelope(envelope, [trustedKey(k.pem, undefined, true)]).allValid).toBe(true);
  });

  it('never verifies with the wrong key, payload type or hash', async () => {
    const k = keys['ecdsa-p256-sha256']!;
    const envelope = await signEnvelope('t', payload, [{ manager, keyId: k.keyId }]);
    expect(verifyEnvelope(envelope, [trustedKey(keys['ecdsa-p384-sha384']!.pem, k.fingerprint)]).allValid).toBe(false);
    expect(verifyEnvelope({ ...envelope, payloadType: 'u' }, [trustedKey(k.pem)]).allValid).toBe(false);
    // A signature over sha256(payload) rather than over the PAE must not pass.
    const digest = createHash('sha256').update(payload).digest();
    const notPae = await manager.signDigest(k.keyId, digest);
    expect(verifyEnvelope({ ...envelope, signatures: [{ sig: notPae }] }, [trustedKey(k.pem)]).allValid).toBe(false);
  });

  it('refuses a key map that is not keyid → PEM', () => {
    expect(() => parseKeyMap('[1]')).toThrow(expect.objectContaining({ code: 'KEY_MALFORMED' }));
    expect(() => parseKeyMap('{"a": 1}')).toThrow(expect.objectContaining({ code: 'KEY_MALFORMED' }));
    expect(() => parseKeyMap('{"a": "not a pem"}')).toThrow(expect.objectContaining({ code: 'KEY_MALFORMED' }));
    expect(() => parseKeyMap('{')).toThrow(expect.objectContaining({ code: 'KEY_MALFORMED' }));
  });
});

function flip(sig: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(sig);
  copy[copy.length - 1]! ^= 1;
  return copy;
}

/** DER ECDSA → r‖s, each padded to `size` bytes. */
function derToRaw(der: Uint8Array, size: number): Uint8Array {
  let i = der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2;
  const ints: Buffer[] = [];
  for (let n = 0; n < 2; n++) {
    const len = der[i + 1]!;
    let v = Buffer.from(der.subarray(i + 2, i + 2 + len));
    while (v.length > size && v[0] === 0) v = v.subarray(1);
    ints.push(Buffer.concat([Buffer.alloc(size - v.length), v]));
    i += 2 + len;
  }
  return Uint8Array.from(Buffer.concat(ints));
}

describe('fetchKeyMap', () => {
  it('refuses plain HTTP except to this machine', async () => {
    const { fetchKeyMap } = await import('../src/index.js');
    await expect(fetchKeyMap('http://example.com/keys.json')).rejects.toMatchObject({ code: 'USAGE' });
    await expect(fetchKeyMap('ftp://example.com/keys.json')).rejects.toMatchObject({ code: 'USAGE' });
    await expect(fetchKeyMap('not a url')).rejects.toMatchObject({ code: 'USAGE' });
    // Loopback HTTP is allowed (nothing listens on port 9 here: the fetch itself fails).
    await expect(fetchKeyMap('http://127.0.0.1:9/keys.json')).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });
});
