import { CosignkitError, parseKeyRef } from '@cosignkit/core';
import { describe, expect, it } from 'vitest';
import { formatKeyringRef, keyringLocationOf } from './keyring-ref.js';

const location = (text: string) => keyringLocationOf(parseKeyRef(text));

describe('keyring references', () => {
  it.each([
    ['keyring:ci/release', { service: 'ci', account: 'release' }],
    ['keyring:release', { service: 'cosignkit', account: 'release' }],
    ['keyring:', { service: 'cosignkit', account: '' }],
    ['keyring:ci/', { service: 'ci', account: '' }],
    ['keyring:ci/team/release', { service: 'ci', account: 'team/release' }],
    ['keyring:my%20svc/a%2Fb', { service: 'my svc', account: 'a/b' }],
    ['cosignkit://keyring:ci/release', { service: 'ci', account: 'release' }],
  ])('%s', (text, expected) => {
    expect(location(text)).toEqual(expected);
  });

  it.each(['keyring:/release', 'keyring:ci/%zz', 'keyring:ci/.cosignkit-index'])(
    'refuses %s (KEY_REF_INVALID)',
    (text) => {
      let error: unknown;
      try {
        location(text);
      } catch (e) {
        error = e;
      }
      expect(CosignkitError.isInstance(error) && error.code).toBe('KEY_REF_INVALID');
    },
  );

  it('formats a reference that parses back to the same service and account', () => {
    for (const [service, account] of [
      ['ci', 'release'],
      ['my svc', 'a/b?c'],
      ['cosignkit', 'k'],
    ] as const) {
      expect(location(formatKeyringRef(service, account))).toEqual({ service, account });
    }
  });
});
