import { CosignkitError, isKeyAlgorithm, type KeyAlgorithm } from '@cosignkit/core';

/** One key as the index lists it: enough for `key list` without reading (or unlocking) any private key. */
export interface IndexedKey {
  account: string;
  algorithm: KeyAlgorithm;
  publicKeyPem: string;
  createdAt: string;
}

interface IndexDocument {
  version: 1;
  keys: IndexedKey[];
}

export function parseKeyIndex(text: string | null, service: string): IndexedKey[] {
  if (text === null) return [];
  const damaged = (why: string): CosignkitError =>
    new CosignkitError('KEY_MALFORMED', `the key index of keyring service "${service}" is damaged: ${why}`);
  let doc: Partial<IndexDocument>;
  try {
    doc = JSON.parse(text) as Partial<IndexDocument>;
  } catch (error) {
    throw new CosignkitError('KEY_MALFORMED', `the key index of keyring service "${service}" is not JSON`, {
      cause: error,
    });
  }
  if (doc?.version !== 1) throw damaged(`unknown version ${JSON.stringify(doc?.version)}`);
  if (!Array.isArray(doc.keys)) throw damaged('no "keys" list');
  return doc.keys.map((key, i) => {
    if (
      typeof key?.account !== 'string' ||
      typeof key.publicKeyPem !== 'string' ||
      !isKeyAlgorithm(String(key.algorithm))
    ) {
      throw damaged(`entry ${i} is incomplete`);
    }
    return {
      account: key.account,
      algorithm: key.algorithm,
      publicKeyPem: key.publicKeyPem,
      createdAt: String(key.createdAt ?? ''),
    };
  });
}

export function serializeKeyIndex(keys: readonly IndexedKey[]): string {
  const sorted = [...keys].sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
  return JSON.stringify({ version: 1, keys: sorted } satisfies IndexDocument);
}
