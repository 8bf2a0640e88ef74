import type { RegistryVerificationResult } from '@cosignkit/core';

/**
 * `verify -a key=value` (seed 000's policy filter, as cosign): a verified signature counts only when its
 * payload (see annotationsOf) holds every given annotation with that exact value. Applied
 * to the verified payloads, so it is the same on either engine. Without annotations the result is unchanged.
 */
export function filterByAnnotations(
  result: RegistryVerificationResult,
  wanted: Record<string, string> | undefined,
): RegistryVerificationResult {
  if (wanted === undefined || !result.verified) return result;
  const payloads = result.payloads.filter((p) => matches(annotationsOf(p), wanted));
  if (payloads.length > 0) return { ...result, payloads };
  const asked = Object.entries(wanted)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return {
    ...result,
    verified: false,
    payloads: [],
    failures: [
      ...result.failures,
      { code: 'VERIFICATION_FAILED', message: `no verified signature of ${result.image} has annotations ${asked}` },
    ],
  };
}

/**
 * The annotations a signature carries: a simple-signing payload's `optional` strings (the .sig layout), or
 * the bundle layout statement's `predicate.annotations` (reported as `annotations`); none for others.
 */
export function annotationsOf(payload: unknown): Record<string, string> {
  const p = payload as { optional?: unknown; annotations?: unknown } | null;
  const optional = p?.optional ?? p?.annotations;
  if (typeof optional !== 'object' || optional === null || Array.isArray(optional)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(optional)) if (typeof v === 'string') out[k] = v;
  return out;
}

function matches(have: Record<string, string>, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([k, v]) => Object.hasOwn(have, k) && have[k] === v);
}
