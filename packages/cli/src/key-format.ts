import { redactKeyRef, type KeyInfo } from '@cosignkit/core';

/**
 * One line for people: reference, algorithm, fingerprint (bare lower-case hex, the same form as `--json`'s
 * `fingerprint` and a verify-dsse key map's key id), the label when it says more, and whether it is the default.
 */
export function describeKey(info: KeyInfo, isDefault = false): string {
  const label = info.label && info.label !== info.id ? `  label=${info.label}` : '';
  return `${redactKeyRef(info.ref)}  ${info.algorithm}  ${info.fingerprint}${label}${isDefault ? '  (default)' : ''}`;
}
