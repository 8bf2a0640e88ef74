import { parseKeyRef } from '@cosignkit/core';
import { describe, expect, it } from 'vitest';
import { keyIdOf, keyQuery, keyRefText } from './key-uri.js';

describe('key ids', () => {
  it('is the object label, else id:<hex>, else empty for the token itself', () => {
    expect(keyIdOf(parseKeyRef('pkcs11:token=ci;object=release%20key'))).toBe('release key');
    expect(keyIdOf(parseKeyRef('pkcs11:token=ci;id=%01%ab'))).toBe('id:01ab');
    expect(keyIdOf(parseKeyRef('pkcs11:token=ci;object=l;id=%01'))).toBe('l');
    expect(keyIdOf(parseKeyRef('pkcs11:token=ci?module-path=/m.so'))).toBe('');
    expect(keyIdOf(parseKeyRef('cosignkit://pkcs11:token=ci;object=k'))).toBe('k');
  });

  it('asks the token for a label, or for CKA_ID bytes', () => {
    expect(keyQuery('release')).toEqual({ label: 'release' });
    expect(keyQuery('id:01ab')).toEqual({ id: Buffer.from([1, 0xab]) });
    expect(keyQuery('id:not-hex')).toEqual({ label: 'id:not-hex' });
  });
});

describe('KeyInfo.ref', () => {
  it('keeps token attributes and the query, drops pin-value, names the key', () => {
    const store = parseKeyRef('pkcs11:token=ci;object=old?module-path=/usr/lib/m.so&pin-value=1234&pin-source=file:/p');
    // pin-value and pin-source together do not parse as a URI; keyRefText still drops pin-value textually.
    const text = keyRefText(store, 'ci', 'new;label');
    expect(text).toBe('pkcs11:token=ci;object=new%3Blabel?module-path=/usr/lib/m.so&pin-source=file:/p');
    expect(keyIdOf(parseKeyRef(text))).toBe('new;label');
  });

  it('adds token=<label> when the store reference named no token', () => {
    expect(keyRefText(parseKeyRef('pkcs11:?module-path=/m.so'), 'my token', 'k')).toBe(
      'pkcs11:token=my%20token;object=k?module-path=/m.so',
    );
    expect(keyRefText(parseKeyRef('pkcs11:slot-id=5'), 'ci', 'id:0a')).toBe('pkcs11:slot-id=5;id=%0a');
  });
});
