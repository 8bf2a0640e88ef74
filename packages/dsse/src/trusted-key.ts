import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  algorithmOfKey,
  escapeForTerminal,
  fingerprintOf,
  parsePublicKeyPem,
  type KeyAlgorithm,
} from '@cosignkit/core';

/** A public key a verifier trusts, under the id signatures name it by. */
export interface TrustedKey {
  /** The id matched against a signature's `keyid` (a key map's name, or the key's fingerprint). */
  keyid: string;
  publicKey: KeyObject;
  algorithm: KeyAlgorithm;
  /** Lower-case hex SHA-256 of the SPKI DER. */
  fingerprint: string;
  /**
   * When true the key is tried for every signature whatever its `keyid` (one key given on the command line,
   * as cosign does); when false only for signatures with no keyid or with this keyid.
   */
  anyKeyid?: boolean;
}

/** Builds a TrustedKey from a PEM (or a KeyObject). Refuses RSA and other unsupported keys. */
export function trustedKey(key: string | KeyObject, keyid?: string, anyKeyid = false): TrustedKey {
  // A key map's names come from a file: quoted and escaped, they cannot break the message's one line.
  const source = keyid ? `key ${escapeForTerminal(JSON.stringify(keyid))}` : 'public key';
  const publicKey =
    typeof key === 'string' ? parsePublicKeyPem(key, source) : key.type === 'private' ? createPublicKey(key) : key;
  const fingerprint = fingerprintOf(publicKey);
  return { keyid: keyid ?? fingerprint, publicKey, algorithm: algorithmOfKey(publicKey), fingerprint, anyKeyid };
}
