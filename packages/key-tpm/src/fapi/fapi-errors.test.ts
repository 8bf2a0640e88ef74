import { describe, expect, it } from 'vitest';
import { fapiError, staleHandlesFix } from './fapi-errors.js';

const failure = (rc: number, tcti = 'swtpm:host=127.0.0.1,port=2321') =>
  fapiError({ action: 'signing', rc, decoded: 'decoded', tcti });

describe('TSS2 return codes → stable error codes', () => {
  it('maps the codes cosignkit users meet', () => {
    expect(failure(0xa000a).code).toBe('BACKEND_UNAVAILABLE'); // TCTI I/O: simulator down
    expect(failure(0x60020).code).toBe('KEY_NOT_FOUND');
    expect(failure(0x6001f).code).toBe('KEY_EXISTS');
    expect(failure(0x60034).code).toBe('BACKEND_UNAVAILABLE'); // not provisioned
    expect(failure(0x921).code).toBe('BACKEND_LOCKED'); // DA lockout
    expect(failure(0x98e).code).toBe('BACKEND_LOCKED'); // TPM_RC_AUTH_FAIL on session 1
    expect(failure(0x1d5).code).toBe('BACKEND_FAILURE');
    expect(failure(0x1d5).details).toMatchObject({ rc: 0x1d5, rcHex: '0x1d5' });
  });

  it('reports stale sessions (0x903) with the commands that clear them', () => {
    const error = failure(0x903);
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toContain('out of session memory (0x903)');
    expect(error.message).toContain("tpm2_flushcontext -T 'swtpm:host=127.0.0.1,port=2321' --loaded-session");
    expect(error.message).toContain('swtpm_ioctl --tcp 127.0.0.1:2322 -i && tpm2_startup -c');
    expect(staleHandlesFix('')).toBe('tpm2_flushcontext --transient-object && tpm2_flushcontext --loaded-session');
  });

  it('tells where to set a TCTI when the system default finds no TPM', () => {
    expect(failure(0xa000a, '').message).toMatch(/system default TCTI.*tcti/);
  });
});
