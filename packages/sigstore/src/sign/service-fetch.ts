import { readBoundedResponse } from '@cosignkit/core';
import type { SigstoreService } from './service-error.js';

export interface ServiceFetchOptions {
  /** Per attempt; default 10 s. */
  timeoutMs?: number;
  /** Retries after a network error or a 408/429/5xx answer; default 1. */
  retries?: number;
  signal?: AbortSignal;
}

/** An HTTP answer that is not 2xx, kept for the error line (status and the service's own message). */
export class ServiceHttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(`(${statusCode}) ${message}`);
  }
}

/** Answers are small JSON or DER documents: a bigger one is refused. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/**
 * POSTs to a Sigstore service with Node's own fetch. @sigstore/sign's clients go through make-fetch-happen,
 * whose loading alone costs 0.3–0.6 s per process: more than the whole signature round trip on loopback.
 */
export async function postToService(
  _service: SigstoreService,
  url: string,
  body: string,
  options: ServiceFetchOptions & { accept?: string } = {},
): Promise<Buffer> {
  const retries = options.retries ?? 1;
  for (let attempt = 0; ; attempt++) {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: options.accept ?? 'application/json' },
        body,
        signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
      });
    } catch (error) {
      if (attempt < retries && !options.signal?.aborted) {
        await delay(200 * (attempt + 1));
        continue;
      }
      throw error;
    }
    const data = await readBoundedResponse(response, MAX_ANSWER_BYTES);
    if (data === undefined) throw new ServiceHttpError(response.status, 'answer too large');
    if (response.ok) return data;
    const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
    if (retryable && attempt < retries) {
      await delay(200 * (attempt + 1));
      continue;
    }
    throw new ServiceHttpError(response.status, messageOf(data, response.statusText));
  }
}

function messageOf(data: Buffer, fallback: string): string {
  try {
    const json = JSON.parse(data.toString('utf8')) as { message?: unknown };
    if (typeof json.message === 'string') return json.message;
  } catch {
    // not JSON
  }
  const text = data.toString('utf8').trim();
  return text && text.length < 300 ? text : fallback;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
