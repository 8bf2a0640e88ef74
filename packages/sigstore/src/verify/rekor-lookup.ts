import { X509Certificate } from 'node:crypto';
import { CosignkitError } from '@cosignkit/core';
import { postToService, ServiceHttpError } from '../sign/service-fetch.js';

/**
 * cosign's online step for a signature without its log entry (`verify-blob --certificate C --signature S`
 * with neither a bundle nor --insecure-ignore-tlog): search Rekor's index by the artifact's SHA-256, fetch
 * the entries found, and keep the `hashedrekord` whose signature and certificate are the ones given.
 *
 * Rekor is untrusted here: what it answers only picks the entry. The entry is then verified as an offline
 * one is (its SET against the trusted root's log key, its body against the signature and certificate), so
 * a lying log can make verification fail, never pass.
 */
export interface RekorLookup {
  /** The log's base URL (`--rekor-url`, or the trusted root's v1 log). */
  rekorUrl: string;
  sha256: Buffer;
  signature: Buffer;
  /** The signer's certificate (DER). */
  certificate: Buffer;
  signal?: AbortSignal;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

/** cosign's Rekor bundle for the entry found: `{SignedEntryTimestamp, Payload}`. */
export interface RekorBundle {
  SignedEntryTimestamp: string;
  Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
}

/** A popular artifact may have many entries; more than this is not looked through (as a bound, not a verdict). */
const MAX_ENTRIES = 64;
const MAX_ANSWER_BYTES = 2 * 1024 * 1024;

export async function findRekorEntry(lookup: RekorLookup): Promise<RekorBundle> {
  const base = lookup.rekorUrl.replace(/\/+$/, '');
  const uuids = await postJson(lookup, `${base}/api/v1/index/retrieve`, {
    hash: `sha256:${lookup.sha256.toString('hex')}`,
  });
  if (!Array.isArray(uuids) || !uuids.every((u) => typeof u === 'string')) {
    throw unavailable(lookup.rekorUrl, 'its index answer is not a list of entry UUIDs');
  }
  if (uuids.length === 0) throw notLogged(lookup.rekorUrl);
  const answer = await postJson(lookup, `${base}/api/v1/log/entries/retrieve`, {
    entryUUIDs: uuids.slice(0, MAX_ENTRIES),
  });
  if (!Array.isArray(answer)) throw unavailable(lookup.rekorUrl, 'its entries answer is not a list');
  for (const map of answer) {
    if (typeof map !== 'object' || map === null) continue;
    for (const entry of Object.values(map as Record<string, unknown>)) {
      const found = asRekorBundle(entry);
      if (found && bodyMatches(found.Payload.body, lookup)) return found;
    }
  }
  throw notLogged(lookup.rekorUrl);
}

function asRekorBundle(entry: unknown): RekorBundle | undefined {
  const e = entry as {
    body?: unknown;
    integratedTime?: unknown;
    logIndex?: unknown;
    logID?: unknown;
    verification?: { signedEntryTimestamp?: unknown };
  };
  if (
    typeof e?.body !== 'string' ||
    typeof e.integratedTime !== 'number' ||
    typeof e.logIndex !== 'number' ||
    typeof e.logID !== 'string' ||
    typeof e.verification?.signedEntryTimestamp !== 'string'
  ) {
    return undefined;
  }
  return {
    SignedEntryTimestamp: e.verification.signedEntryTimestamp,
    Payload: { body: e.body, integratedTime: e.integratedTime, logIndex: e.logIndex, logID: e.logID },
  };
}

/** The entry is a hashedrekord over this digest, with this signature, by this certificate. */
function bodyMatches(body: string, lookup: RekorLookup): boolean {
  try {
    const parsed = JSON.parse(Buffer.from(body, 'base64').toString('utf8')) as {
      kind?: unknown;
      spec?: {
        data?: { hash?: { algorithm?: unknown; value?: unknown } };
        signature?: { content?: unknown; publicKey?: { content?: unknown } };
      };
    };
    if (parsed.kind !== 'hashedrekord') return false;
    const hash = parsed.spec?.data?.hash;
    if (hash?.algorithm !== 'sha256' || hash.value !== lookup.sha256.toString('hex')) return false;
    const signature = parsed.spec?.signature?.content;
    if (typeof signature !== 'string' || !Buffer.from(signature, 'base64').equals(lookup.signature)) return false;
    const key = parsed.spec?.signature?.publicKey?.content;
    if (typeof key !== 'string') return false;
    return new X509Certificate(Buffer.from(key, 'base64')).raw.equals(lookup.certificate);
  } catch {
    return false;
  }
}

/**
 * One POST through the signer's bounded node:http client (service-fetch.ts: one HTTP client for every
 * Sigstore service, no fetch/undici). No retry: the lookup is one step of a verification that can be re-run.
 * Whatever goes wrong on the way (no answer, no answer in time, an HTTP error, an answer over the bound or not
 * JSON) is BACKEND_UNAVAILABLE; the caller's own cancellation is ABORTED.
 */
async function postJson(lookup: RekorLookup, url: string, body: unknown): Promise<unknown> {
  let answer: Buffer;
  try {
    answer = await postToService('Rekor', url, JSON.stringify(body), {
      retries: 0,
      timeoutMs: lookup.timeoutMs ?? 10_000,
      maxAnswerBytes: MAX_ANSWER_BYTES,
      ...(lookup.signal ? { signal: lookup.signal } : {}),
    });
  } catch (error) {
    if (lookup.signal?.aborted) throw new CosignkitError('ABORTED', 'cancelled', { cause: error });
    if (error instanceof ServiceHttpError) {
      throw unavailable(lookup.rekorUrl, error.tooLarge ? 'its answer is too large' : `HTTP ${error.statusCode}`);
    }
    throw unavailable(lookup.rekorUrl, isTimeout(error) ? 'no answer in time' : 'unreachable', error);
  }
  try {
    return JSON.parse(answer.toString('utf8'));
  } catch {
    throw unavailable(lookup.rekorUrl, 'its answer is not JSON');
  }
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown; cause?: { name?: unknown } } | undefined)?.name;
  const cause = (error as { cause?: { name?: unknown } } | undefined)?.cause?.name;
  return name === 'TimeoutError' || cause === 'TimeoutError' || name === 'AbortError';
}

function notLogged(rekorUrl: string): CosignkitError {
  return new CosignkitError(
    'VERIFICATION_FAILED',
    `no entry in the transparency log ${rekorUrl} has this signature and certificate for the artifact`,
  );
}

function unavailable(rekorUrl: string, why: string, cause?: unknown): CosignkitError {
  return new CosignkitError(
    'BACKEND_UNAVAILABLE',
    `looking the signature up in Rekor (${rekorUrl}): ${why}`,
    cause === undefined ? undefined : { cause },
  );
}
