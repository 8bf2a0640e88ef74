import { CosignkitError } from '@cosignkit/core';
import { REGISTRY_LIMITS } from '@cosignkit/oci';
import type { ParsedFlags } from '../args.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The deadline of each exchange with a registry, in ms: `--registry-timeout`, else COSIGNKIT_REGISTRY_TIMEOUT,
 * else core's default (3 minutes, cosign's --timeout). Go durations as cosign writes them (`90s`, `2m`,
 * `1m30s`, `500ms`) or a number of seconds.
 */
export function registryTimeoutMs(flags: ParsedFlags, env: NodeJS.ProcessEnv): number {
  const flag = flags.values['registry-timeout'];
  const text = typeof flag === 'string' ? flag : env.COSIGNKIT_REGISTRY_TIMEOUT;
  if (text === undefined || text === '') return REGISTRY_LIMITS.timeoutMs;
  const ms = parseDuration(text.trim());
  const from = typeof flag === 'string' ? '--registry-timeout' : 'COSIGNKIT_REGISTRY_TIMEOUT';
  if (ms === undefined || ms <= 0 || ms > 24 * 3_600_000) {
    throw new CosignkitError(
      'USAGE',
      `${from} takes a duration such as 30s, 2m or 1m30s (at most 24h), not ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  return ms;
}

function parseDuration(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * UNITS[m[2]!]!;
  return Math.round(total);
}
