import { CosignkitError } from '@cosignkit/core';

const UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `90s`, `15m`, `12h`, `7d`, `2w` (or combinations like `1d12h`) into milliseconds. */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+)([smhdw])/g)];
  if (!/^(\d+[smhdw])+$/.test(text) || parts.length === 0) {
    throw new CosignkitError('USAGE', `invalid duration "${text}": use a number and a unit s, m, h, d or w (e.g. 7d)`);
  }
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNITS[unit!]!, 0);
}
