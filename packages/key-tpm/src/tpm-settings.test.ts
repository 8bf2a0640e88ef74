import { describe, expect, it } from 'vitest';
import { parseKeyRef, silentLogger, type BackendContext } from '@cosignkit/core';
import { keyNameOf, tpmSettings } from './tpm-settings.js';

const context = (env: Record<string, string>, options: Record<string, unknown> = {}): BackendContext => ({
  options,
  env,
  logger: silentLogger,
  secrets: async () => '',
});

describe('tpm references and settings', () => {
  it('puts the keystore in the user data dir unless COSIGNKIT_TPM_HOME or the home option says otherwise', () => {
    const ref = parseKeyRef('tpm:release');
    expect(tpmSettings(ref, context({ HOME: '/home/u' })).home).toBe('/home/u/.local/share/cosignkit/tpm');
    expect(tpmSettings(ref, context({ HOME: '/home/u', XDG_DATA_HOME: '/data' })).home).toBe('/data/cosignkit/tpm');
    expect(tpmSettings(ref, context({ HOME: '/home/u' }, { home: '/opt/tpm' })).home).toBe('/opt/tpm');
    expect(
      tpmSettings(ref, context({ HOME: '/home/u', COSIGNKIT_TPM_HOME: '/env/tpm' }, { home: '/opt/tpm' })).home,
    ).toBe('/env/tpm');
  });

  it('takes the TCTI from the reference, then the config, else the system default (empty)', () => {
    const env = { HOME: '/h' };
    expect(tpmSettings(parseKeyRef('tpm:k'), context(env)).tcti).toBe('');
    expect(tpmSettings(parseKeyRef('tpm:k'), context(env, { tcti: 'device:/dev/tpmrm0' })).tcti).toBe(
      'device:/dev/tpmrm0',
    );
    const fromRef = tpmSettings(
      parseKeyRef('tpm:k?tcti=swtpm%3Ahost%3D127.0.0.1%2Cport%3D2321'),
      context(env, { tcti: 'device:/dev/tpmrm0' }),
    );
    expect(fromRef).toMatchObject({ tcti: 'swtpm:host=127.0.0.1,port=2321', tctiInRef: true });
  });

  it('reads curve=p256|p384 and refuses anything else', () => {
    expect(tpmSettings(parseKeyRef('tpm:k?curve=P384'), context({ HOME: '/h' })).curve).toBe('p384');
    expect(() => tpmSettings(parseKeyRef('tpm:k?curve=p521'), context({ HOME: '/h' }))).toThrow(/p256 or p384/);
  });

  it('accepts plain key names only (they become FAPI path segments)', () => {
    expect(keyNameOf(parseKeyRef('tpm:release-1.2_x'))).toBe('release-1.2_x');
    expect(keyNameOf(parseKeyRef('tpm:'))).toBe('');
    for (const bad of ['tpm:../x', 'tpm:a/b', 'tpm:-x', `tpm:${'a'.repeat(65)}`]) {
      expect(() => keyNameOf(parseKeyRef(bad)), bad).toThrow(/TPM key name/);
    }
  });
});
