import { describe, expect, it } from 'vitest';
import { CosignkitError, formatKeyRef, parseKeyRef, redactKeyRef } from '../src/index.js';

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
    expect(parseKeyRef('tpm:release?curve=p384')).toEqual({
      text: 'tpm:release?curve=p384',
      scheme: 'tpm',
      path: 'release',
      query: { curve: 'p384' },
    });
    expect(parseKeyRef('keyring:cosignkit/release')).toMatchObject({
      scheme: 'keyring',
      path: 'cosignkit/release',
      query: {},
    });
    expect(parseKeyRef('PKCS11:token=ci;object=k?module-path=%2Fusr%2Flib%2Fm.so')).toMatchObject({
      scheme: 'pkcs11',
      path: 'token=ci;object=k',
      query: { 'module-path': '/usr/lib/m.so' },
    });
    expect(parseKeyRef('tpm:')).toMatchObject({ scheme: 'tpm', path: '', query: {} });
  });

  it('strips the cosignkit:// plugin prefix', () => {
    expect(parseKeyRef('cosignkit://tpm:release')).toMatchObject({
      text: 'tpm:release',
      scheme: 'tpm',
      path: 'release',
    });
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
    expect(
      parseKeyRef(formatKeyRef({ scheme: 'pkcs11', path: 'token=a', query: { 'module-path': '/a b/m.so' } })).query,
    ).toEqual({ 'module-path': '/a b/m.so' });
  });
});

describe('redactKeyRef', () => {
  it('removes inline PINs and passwords wherever they stand', () => {
    expect(redactKeyRef('pkcs11:token=a?pin-value=1234&module-path=/m.so')).toBe(
      'pkcs11:token=a?pin-value=REDACTED&module-path=/m.so',
    );
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
