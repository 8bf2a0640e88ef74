import { createPrivateKey, createPublicKey, webcrypto, type JsonWebKey, type KeyObject } from 'node:crypto';
import { CosignkitError } from '@cosignkit/core';
import { calculateThumbprint, type KeyPair } from 'dpop';

/** A DPoP key as the client uses it: the WebCrypto pair the `dpop` library signs proofs with, and its jkt. */
export interface DpopKey {
  keyPair: KeyPair;
  /** RFC 7638 SHA-256 thumbprint of the public JWK: what a bound token's `cnf.jkt` holds. */
  thumbprint: string;
}

/**
 * Reads a DPoP private key: PKCS#8 or SEC1 PEM, or a private JWK; ECDSA P-256 (ES256) or Ed25519. The text
 * is a secret: errors never quote it.
 */
export async function readDpopKey(text: string | Buffer, where = 'the DPoP key'): Promise<DpopKey> {
  let privateKey: KeyObject;
  try {
    const s = text.toString().trim();
    privateKey = s.startsWith('{')
      ? createPrivateKey({ key: JSON.parse(s) as JsonWebKey, format: 'jwk' })
      : createPrivateKey(s);
  } catch {
    throw new CosignkitError('KEY_MALFORMED', `${where} is not a private key (PKCS#8/SEC1 PEM or a private JWK)`);
  }
  const type = privateKey.asymmetricKeyType;
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  let algorithm: webcrypto.EcKeyImportParams | { name: 'Ed25519' };
  if (type === 'ec' && curve === 'prime256v1') algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
  else if (type === 'ed25519') algorithm = { name: 'Ed25519' };
  else throw new CosignkitError('KEY_MALFORMED', `${where} must be an ECDSA P-256 or Ed25519 key (DPoP ES256/EdDSA)`);
  const subtle = webcrypto.subtle;
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const keyPair = {
    privateKey: await subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']),
    publicKey: await subtle.importKey('spki', spki, algorithm, true, ['verify']),
  } as unknown as KeyPair;
  return { keyPair, thumbprint: await calculateThumbprint(keyPair.publicKey) };
}

/**
 * The `cnf.jkt` an OpTok is bound to, read without verifying it (the server verifies): lets a client say
 * "this token needs --dpop-key" or "that is not the key it is bound to" before sending anything.
 */
export function dpopBindingOf(token: string): string | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { cnf?: { jkt?: unknown } };
    return typeof claims?.cnf?.jkt === 'string' ? claims.cnf.jkt : undefined;
  } catch {
    return undefined;
  }
}
