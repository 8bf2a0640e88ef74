import type { KeyObject } from 'node:crypto';
import { crypto as sigstoreCrypto } from '@sigstore/core';

const CACHE_SIZE = 1024;
const keys = new Map<string, KeyObject>();
let installed = false;

/**
 * @sigstore/verify imports the signer's key from DER on every verification (`getSigner`, each TSA check),
 * through @sigstore/core's `crypto.createPublicKey`, and the import costs about as much as an ECDSA check.
 * A KeyObject is immutable and a function of (bytes, type) alone, so the same bytes get the same object from
 * a bounded cache (least recently used out). PEM strings and anything unusual go straight through. Installed
 * once, on the first verification; it replaces the function on @sigstore/core's crypto module, which this
 * package bundles (the CommonJS copy other packages load is the same function, made faster the same way).
 */
export function installPublicKeyCache(): void {
  if (installed) return;
  installed = true;
  const original = sigstoreCrypto.createPublicKey;
  const cached = (key: string | Buffer, type: 'spki' | 'pkcs1' = 'spki'): KeyObject => {
    if (!Buffer.isBuffer(key)) return original(key, type);
    const id = `${type}:${key.toString('latin1')}`;
    let object = keys.get(id);
    if (object) {
      keys.delete(id);
    } else {
      object = original(key, type);
      if (keys.size >= CACHE_SIZE) keys.delete(keys.keys().next().value!);
    }
    keys.set(id, object);
    return object;
  };
  (sigstoreCrypto as { createPublicKey: typeof cached }).createPublicKey = cached;
}
