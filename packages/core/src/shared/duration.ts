import { CosignkitError } from '../errors.js';

const UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Parses a duration into milliseconds: `500ms`, `90s`, `15m`, `12h`, `7d`, `2w`, combinations like `1d12h`, or
 * a bare number of seconds (`0` is zero). The one parser of every package (agent TTLs, DSSE policy ages).
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1_000);
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|[smhdw])/g)];
  if (!/^(\d+(\.\d+)?(ms|[smhdw]))+$/.test(trimmed) || parts.length === 0) {
    throw new CosignkitError(
      'USAGE',
      `invalid duration "${text}": use a number and a unit ms, s, m, h, d or w (e.g. 10m, 7d)`,
    );
  }
  return Math.round(parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNITS[unit!]!, 0));
}
