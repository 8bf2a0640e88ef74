import { describe, expect, it } from 'vitest';
import { CosignkitError, parseKeyRef } from '@cosignkit/core';
import { parsePkcs11Uri } from './pkcs11-uri.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return CosignkitError.isInstance(error) ? error.code : `not a CosignkitError: ${String(error)}`;
  }
  return undefined;
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a throw');
}

describe('parsePkcs11Uri', () => {
  it('reads path and query attributes as cosign spells them', () => {
    const uri = parsePkcs11Uri(
      'pkcs11:token=my%20token;object=release;type=private;id=%01%02%ff;slot-id=3;library-version=2.40;x-vendor=v' +
        '?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin',
    );
    expect(uri).toMatchObject({
      token: 'my token',
      object: 'release',
      type: 'private',
      slotId: 3,
      libraryVersion: { major: 2, minor: 40 },
      modulePath: '/usr/lib/softhsm/libsofthsm2.so',
      pinSource: 'file:/run/pin',
      vendor: { 'x-vendor': 'v' },
    });
    expect([...uri.id!]).toEqual([1, 2, 255]);
    expect(parsePkcs11Uri('pkcs11:library-version=3').libraryVersion).toEqual({ major: 3, minor: 0 });
    expect(parsePkcs11Uri(parseKeyRef('pkcs11:token=t?pin-value=1234')).pinValue).toBe('1234');
  });

  it('refuses what RFC 7512 does not allow, without showing the PIN', () => {
    for (const bad of [
      'tpm:release',
      'pkcs11:token',
      'pkcs11:token=a;token=b',
      'pkcs11:nonsense=1',
      'pkcs11:slot-id=abc',
      'pkcs11:library-version=x.y',
      'pkcs11:type=banana',
      'pkcs11:id=%zz',
      'pkcs11:token=a?pin-source=file:/p&pin-value=1234',
    ]) {
      expect(
        codeOf(() => parsePkcs11Uri(bad)),
        bad,
      ).toBe('KEY_REF_INVALID');
    }
    expect(messageOf(() => parsePkcs11Uri('pkcs11:token=a?pin-source=file:/p&pin-value=1234'))).not.toContain('1234');
    // A PIN in the wrong place is still a PIN.
    expect(messageOf(() => parsePkcs11Uri('pkcs11:pin-value=1234'))).not.toContain('1234');
  });
});
