import { CosignkitError } from '@cosignkit/core';
import { describe, expect, it } from 'vitest';
import { parseKeyIndex, serializeKeyIndex, type IndexedKey } from './key-index.js';

const key = (account: string): IndexedKey => ({
  account,
  algorithm: 'ed25519',
  publicKeyPem: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n',
  createdAt: '2026-01-01T00:00:00.000Z',
});

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return CosignkitError.isInstance(error) ? error.code : 'not a CosignkitError';
  }
  return undefined;
}

describe('the key index', () => {
  it('round-trips, sorted by account', () => {
    const text = serializeKeyIndex([key('b'), key('a')]);
    expect(parseKeyIndex(text, 's').map((k) => k.account)).toEqual(['a', 'b']);
  });

  it('is empty when the entry does not exist', () => {
    expect(parseKeyIndex(null, 's')).toEqual([]);
  });

  it.each([
    ['not JSON', '{'],
    ['an unknown version', '{"version":2,"keys":[]}'],
    ['no key list', '{"version":1}'],
    ['an incomplete entry', '{"version":1,"keys":[{"account":"a","algorithm":"rsa","publicKeyPem":"x"}]}'],
  ])('refuses %s (KEY_MALFORMED)', (_, text) => {
    expect(codeOf(() => parseKeyIndex(text, 's'))).toBe('KEY_MALFORMED');
  });
});
