import { redactKeyRef, type KeyInfo } from '@cosignkit/core';

/** One line for people: reference, algorithm, fingerprint, and the label when it says more. */
export function describeKey(info: KeyInfo): string {
  const label = info.label && info.label !== info.id ? `  label=${info.label}` : '';
  return `${redactKeyRef(info.ref)}  ${info.algorithm}  sha256:${info.fingerprint}${label}`;
}
