import { describe, expect, it } from 'vitest';
import { CosignkitError, formatKeyRef, parseKeyRef, parsePkcs11Uri, redactKeyRef } from '../src/index.js';

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

describe('parseKeyRef', () => {
  it('treats paths and file: references as the file backend', () => {
    expect(parseKeyRef('cosign.key')).toEqual({ text: 'cosign.key', scheme: 'file', path: 'cosign.key', query: {} });
    expect(parseKeyRef('./keys/release.key').path).toBe('./keys/release.key');
    expect(parseKeyRef('file:keys/a.key')).toMatchObject({ scheme: 'file', path: 'keys/a.key' });
    expect(parseKeyRef('file:///abs/a.key')).toMatchObject({ scheme: 'file', path: '/abs/a.key' });
    expect(parseKeyRef('FILE:/abs/a.key')).toMatchObject({ scheme: 'file', path: '/abs/a.key' });
    // A drive letter is not a scheme.
    expect(parseKeyRef('C:\\keys\\a.key')).toMatchObject({ scheme: 'file', path: 'C:\\keys\\a.key' });
  });

  it('splits scheme, path and query for other backends', () => {
    expect(parseKeyRef('tpm:release?curve=p384')).toEqual({ text: 'tpm:release?curve=p384', scheme: 'tpm', path: 'release', query: { curve: 'p384' } });
    expect(parseKeyRef('keyring:cosignkit/release')).toMatchObject({ scheme: 'keyring', path: 'cosignkit/release', query: {} });
    expect(parseKeyRef('PKCS11:token=ci;object=k?module-path=%2Fusr%2Flib%2Fm.so')).toMatchObject({
      scheme: 'pkcs11',
      path: 'token=ci;object=k',
      query: { 'module-path': '/usr/lib/m.so' },
    });
    expect(parseKeyRef('tpm:')).toMatchObject({ scheme: 'tpm', path: '', query: {} });
  });

  it('strips the cosignkit:// plugin prefix', () => {
    expect(parseKeyRef('cosignkit://tpm:release')).toMatchObject({ text: 'tpm:release', scheme: 'tpm', path: 'release' });
    expect(parseKeyRef('cosignkit://cosign.key')).toMatchObject({ scheme: 'file', path: 'cosign.key' });
  });

  it('refuses empty references, repeated attributes and bad percent-encoding, without leaking secrets', () => {
    expect(codeOf(() => parseKeyRef(''))).toBe('KEY_REF_INVALID');
    expect(codeOf(() => parseKeyRef('  '))).toBe('KEY_REF_INVALID');
    expect(codeOf(() => parseKeyRef('tpm:k?curve=a&curve=b'))).toBe('KEY_REF_INVALID');
    const message = messageOf(() => parseKeyRef('pkcs11:token=a?pin-value=s3cret&x=%zz'));
    expect(message).toMatch(/percent-encoding/);
    expect(message).not.toContain('s3cret');
  });

  it('formats a reference back to its canonical text', () => {
    for (const text of ['tpm:release?curve=p384', 'keyring:svc/acct', 'cosign.key']) {
      expect(formatKeyRef(parseKeyRef(text))).toBe(text);
    }
    expect(parseKeyRef(formatKeyRef({ scheme: 'pkcs11', path: 'token=a', query: { 'module-path': '/a b/m.so' } })).query)
      .toEqual({ 'module-path': '/a b/m.so' });
  });
});

describe('redactKeyRef', () => {
  it('removes inline PINs and passwords wherever they stand', () => {
    expect(redactKeyRef('pkcs11:token=a?pin-value=1234&module-path=/m.so')).toBe('pkcs11:token=a?pin-value=REDACTED&module-path=/m.so');
    expect(redactKeyRef('pkcs11:token=a;pin=1234')).toBe('pkcs11:token=a;pin=REDACTED');
    expect(redactKeyRef('vault:k?PASSWORD=hunter2')).toBe('vault:k?PASSWORD=REDACTED');
    expect(redactKeyRef('pkcs11:token=a?pin-source=file:/run/pin')).toBe('pkcs11:token=a?pin-source=file:/run/pin');
    expect(redactKeyRef('cosign.key')).toBe('cosign.key');
  });

  it('removes a secret right after the scheme and a percent-encoded attribute name', () => {
    expect(redactKeyRef('pkcs11:pin-value=1234')).not.toContain('1234');
    // parseKeyRef decodes attribute names, so `pin%2Dvalue` IS pin-value: it must be redacted too.
    expect(parseKeyRef('pkcs11:token=a?pin%2Dvalue=1234').query['pin-value']).toBe('1234');
    expect(redactKeyRef('pkcs11:token=a?pin%2Dvalue=1234')).not.toContain('1234');
    expect(redactKeyRef('pkcs11:token=a?pin%2dvalue=1234&x=1')).toBe('pkcs11:token=a?pin%2dvalue=REDACTED&x=1');
  });
});

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
      expect(codeOf(() => parsePkcs11Uri(bad)), bad).toBe('KEY_REF_INVALID');
    }
    expect(messageOf(() => parsePkcs11Uri('pkcs11:token=a?pin-source=file:/p&pin-value=1234'))).not.toContain('1234');
    // A PIN in the wrong place is still a PIN.
    expect(messageOf(() => parsePkcs11Uri('pkcs11:pin-value=1234'))).not.toContain('1234');
  });
});
