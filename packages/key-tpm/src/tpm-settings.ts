import { homedir } from 'node:os';
import { join } from 'node:path';
import { CosignkitError, redactKeyRef, type BackendContext, type KeyRef } from '@cosignkit/core';
import { CURVES, type TpmCurve } from './fapi/fapi-profiles.js';

/** Where and how a `tpm:` reference reaches its keystore. */
export interface TpmSettings {
  /** cosignkit's TPM directory: `COSIGNKIT_TPM_HOME`, the `home` option, else `$XDG_DATA_HOME/cosignkit/tpm`. */
  home: string;
  /** The TCTI ('' = tpm2-tss's system default). */
  tcti: string;
  /** True when the TCTI came from the reference, so KeyInfo.ref must carry it to reach the same TPM. */
  tctiInRef: boolean;
  /** The curve the reference asks for (the default for new keys). */
  curve: TpmCurve | undefined;
  /** Flush leftover handles and retry on 0x902/0x903 (only for a TPM nobody else uses: a simulator of one's own). */
  flushStaleHandles: boolean;
  /**
   * How signatures are made (option `signWith`): `esys` (default) signs with the key FAPI made through ESYS,
   * one TPM command per signature; `fapi` calls Fapi_Sign, which reloads the key and opens salted sessions
   * every time (about 10× slower, kept for TPMs or policies the ESYS path cannot serve).
   */
  signWith: 'esys' | 'fapi';
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const QUERY_KEYS = new Set(['curve', 'tcti']);

/** The key name a `tpm:<name>` reference carries ('' for the store itself). */
export function keyNameOf(ref: KeyRef): string {
  const name = ref.path.replace(/^\/+/, '');
  if (name !== '' && !NAME.test(name)) {
    throw new CosignkitError(
      'KEY_REF_INVALID',
      `key reference ${redactKeyRef(ref.text)}: a TPM key name is 1–64 letters, digits, ".", "_" or "-"`,
    );
  }
  return name;
}

export function checkKeyName(name: string): void {
  if (!NAME.test(name)) {
    throw new CosignkitError('USAGE', `"${name}" is not a TPM key name: use 1–64 letters, digits, ".", "_" or "-"`);
  }
}

export function tpmSettings(ref: KeyRef, ctx: BackendContext): TpmSettings {
  for (const key of Object.keys(ref.query)) {
    if (!QUERY_KEYS.has(key)) {
      throw new CosignkitError(
        'KEY_REF_INVALID',
        `key reference ${redactKeyRef(ref.text)}: unknown attribute "${key}" (tpm: takes curve, tcti)`,
      );
    }
  }
  const curve = ref.query.curve?.toLowerCase();
  if (curve !== undefined && !CURVES.includes(curve as TpmCurve)) {
    throw new CosignkitError('KEY_REF_INVALID', `key reference ${redactKeyRef(ref.text)}: curve must be p256 or p384`);
  }
  const option = (name: string): string | undefined => {
    const value = ctx.options[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const env = ctx.env;
  const dataHome = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
  return {
    home: env.COSIGNKIT_TPM_HOME || option('home') || join(dataHome, 'cosignkit', 'tpm'),
    tcti: ref.query.tcti ?? option('tcti') ?? '',
    tctiInRef: ref.query.tcti !== undefined,
    curve: curve as TpmCurve | undefined,
    flushStaleHandles: ctx.options.flushStaleHandles === true,
    signWith: signWithOption(ctx.options.signWith),
  };
}

function signWithOption(value: unknown): 'esys' | 'fapi' {
  if (value === undefined || value === 'esys' || value === 'fapi') return value ?? 'esys';
  throw new CosignkitError('USAGE', `backends.tpm.signWith must be "esys" or "fapi", not ${JSON.stringify(value)}`);
}
