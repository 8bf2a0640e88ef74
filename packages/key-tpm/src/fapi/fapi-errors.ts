import { CosignkitError, type ErrorCode } from '@cosignkit/core';

/** TSS2 return codes cosignkit reacts to (tss2_common.h, tss2_fapi.h, tss2_tpm2_types.h). */
export const RC = {
  SUCCESS: 0,
  FAPI_LAYER: 0x060000,
  TCTI_LAYER: 0x0a0000,
  FAPI_IO_ERROR: 0x06000a,
  FAPI_BAD_VALUE: 0x06000b,
  FAPI_BAD_PATH: 0x06001d,
  FAPI_PATH_ALREADY_EXISTS: 0x06001f,
  FAPI_KEY_NOT_FOUND: 0x060020,
  FAPI_PATH_NOT_FOUND: 0x060024,
  FAPI_AUTHORIZATION_FAILED: 0x060029,
  FAPI_AUTHORIZATION_UNKNOWN: 0x06002a,
  FAPI_NO_TPM: 0x060031,
  FAPI_NOT_PROVISIONED: 0x060034,
  FAPI_ALREADY_PROVISIONED: 0x060035,
  FAPI_CALLBACK_NULL: 0x060036,
  /** TPM_RC_OBJECT_MEMORY: every transient object slot is taken. */
  TPM_OBJECT_MEMORY: 0x902,
  /** TPM_RC_SESSION_MEMORY: every session slot is taken (sessions left by a killed process). */
  TPM_SESSION_MEMORY: 0x903,
  TPM_LOCKOUT: 0x921,
} as const;

const LAYER_MASK = 0xff0000;

export function layerOf(rc: number): number {
  return rc & LAYER_MASK;
}

/** True for the two "the TPM is full of leftovers" warnings, which a flush of stale handles cures. */
export function isStaleHandles(rc: number): boolean {
  return rc === RC.TPM_OBJECT_MEMORY || rc === RC.TPM_SESSION_MEMORY;
}

/** The TPM's authorization failure codes (format one: the parameter/session number sits in bits 8–11). */
function isAuthFailure(rc: number): boolean {
  if (layerOf(rc) !== 0 || (rc & 0x80) === 0) return false;
  const base = rc & 0xbf;
  return base === 0x8e /* AUTH_FAIL */ || base === 0xa2 /* BAD_AUTH */;
}

export interface FapiFailure {
  /** What cosignkit was doing, for the message ("signing with tpm:release"). */
  action: string;
  rc: number;
  /** Tss2_RC_Decode's text. */
  decoded: string;
  /** The TCTI in use ('' = the system default), for the fix command of a stale-handle failure. */
  tcti: string;
}

/** Translates a TSS2 return code into a CosignkitError with a stable code and one line for people. */
export function fapiError(failure: FapiFailure): CosignkitError {
  const { action, rc, decoded } = failure;
  const hex = `0x${rc.toString(16)}`;
  const details = { rc, rcHex: hex, tss2: decoded };
  const make = (code: ErrorCode, message: string) =>
    new CosignkitError(code, message, { cause: new Error(`TSS2 ${hex}: ${decoded}`), details });
  if (layerOf(rc) === RC.TCTI_LAYER || rc === RC.FAPI_NO_TPM || rc === RC.FAPI_IO_ERROR) {
    if (failure.tcti === '') {
      return make(
        'BACKEND_UNAVAILABLE',
        `${action}: no TPM found through the system default TCTI (${decoded}); ` +
          'name one with tpm:<name>?tcti=… or "tcti" under backends.tpm in cosignkit.config.json',
      );
    }
    return make(
      'BACKEND_UNAVAILABLE',
      `${action}: cannot reach the TPM through TCTI "${failure.tcti}" (${decoded}); is the TPM or simulator running?`,
    );
  }
  switch (rc) {
    case RC.FAPI_KEY_NOT_FOUND:
    case RC.FAPI_PATH_NOT_FOUND:
    case RC.FAPI_BAD_PATH:
      return make('KEY_NOT_FOUND', `${action}: no such key in the TPM keystore`);
    case RC.FAPI_PATH_ALREADY_EXISTS:
      return make('KEY_EXISTS', `${action}: a key with that name already exists`);
    case RC.FAPI_NOT_PROVISIONED:
      return make('BACKEND_UNAVAILABLE', `${action}: the TPM keystore is not provisioned`);
    case RC.TPM_LOCKOUT:
      return make('BACKEND_LOCKED', `${action}: the TPM is in dictionary-attack lockout`);
    default:
  }
  if (isStaleHandles(rc)) {
    return make(
      'BACKEND_UNAVAILABLE',
      `${action}: the TPM is out of ${rc === RC.TPM_SESSION_MEMORY ? 'session' : 'object'} memory ` +
        `(${hex}), left over by a process that died mid-command; fix: ${staleHandlesFix(failure.tcti)}`,
    );
  }
  if (
    isAuthFailure(rc) ||
    rc === RC.FAPI_AUTHORIZATION_FAILED ||
    rc === RC.FAPI_AUTHORIZATION_UNKNOWN ||
    rc === RC.FAPI_CALLBACK_NULL
  ) {
    return make('BACKEND_LOCKED', `${action}: the TPM refused the authorization (${decoded})`);
  }
  return make('BACKEND_FAILURE', `${action}: TPM error ${hex} (${decoded})`);
}

/** The commands that flush what a dead process left in the TPM (a kernel resource manager does this by itself). */
export function staleHandlesFix(tcti: string): string {
  const t = tcti === '' ? '' : ` -T '${tcti}'`;
  const swtpm = /^swtpm:(?:.*?host=([^,]+))?(?:.*?port=(\d+))?/.exec(tcti);
  const reset = swtpm
    ? `; or restart the simulator: swtpm_ioctl --tcp ${swtpm[1] ?? '127.0.0.1'}:${Number(swtpm[2] ?? 2321) + 1} -i && tpm2_startup -c${t}`
    : '';
  return `tpm2_flushcontext${t} --transient-object && tpm2_flushcontext${t} --loaded-session${reset}`;
}
