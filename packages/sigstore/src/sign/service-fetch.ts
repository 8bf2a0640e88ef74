import { createRequire } from 'node:module';
import { CosignkitError } from '@cosignkit/core';
import type { SigstoreService } from './service-error.js';

export interface ServiceFetchOptions {
  /** Per attempt; default 10 s. */
  timeoutMs?: number;
  /** Retries after a network error or a 408/429/5xx answer; default 1. */
  retries?: number;
  signal?: AbortSignal;
  /** The largest answer read (a bigger one is refused while it arrives); default 4 MiB. */
  maxAnswerBytes?: number;
  /** Called each time a request has been handed to the network in full (its connection made). */
  onSent?: () => void;
}

/** An HTTP answer that is not 2xx, or one over the bound, kept for the error line (status and message). */
export class ServiceHttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    /** The answer was refused for its size, whatever its status. */
    readonly tooLarge = false,
  ) {
    super(`(${statusCode}) ${message}`);
  }
}

/** Answers are small JSON or DER documents: a bigger one is refused. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

type Http = typeof import('node:http');
let load: NodeJS.Require | undefined;

/**
 * node:http or node:https through require(), on first use (https, and TLS with it, only for an https URL).
 * As ES modules (a static import, or fetch) they cost a one-shot keyless sign-blob more than its two round
 * trips on loopback: fetch loads undici and its WebAssembly HTTP parser, and importing node:http as an ES
 * module reads every export of it, which loads undici too. require() hands back the module as it is.
 */
function httpClient(protocol: 'http:' | 'https:'): Http {
  load ??= createRequire(import.meta.url);
  return (protocol === 'https:' ? load('node:https') : load('node:http')) as Http;
}

/**
 * POSTs to a Sigstore service with Node's own HTTP client. @sigstore/sign's clients go through
 * make-fetch-happen, whose loading alone costs 0.3–0.6 s per process: more than the whole signature round
 * trip on loopback.
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
    let answer: { status: number; statusText: string; data: Buffer };
    try {
      answer = await post(url, body, {
        accept: options.accept ?? 'application/json',
        signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
        maxAnswerBytes: options.maxAnswerBytes ?? MAX_ANSWER_BYTES,
        ...(options.onSent ? { onSent: options.onSent } : {}),
      });
    } catch (error) {
      // A refused URL or an oversized answer is not worth another attempt.
      if (CosignkitError.isInstance(error) || error instanceof ServiceHttpError) throw error;
      if (attempt < retries && !options.signal?.aborted) {
        await delay(200 * (attempt + 1));
        continue;
      }
      throw error;
    }
    const { status, statusText, data } = answer;
    if (status >= 200 && status < 300) return data;
    const retryable = status === 408 || status === 429 || status >= 500;
    if (retryable && attempt < retries) {
      await delay(200 * (attempt + 1));
      continue;
    }
    throw new ServiceHttpError(status, messageOf(data, statusText));
  }
}

/** One POST; the answer is read up to maxAnswerBytes (a bigger one is refused while it arrives). */
function post(
  url: string,
  body: string,
  options: { accept: string; signal: AbortSignal; maxAnswerBytes: number; onSent?: () => void },
): Promise<{ status: number; statusText: string; data: Buffer }> {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    return Promise.reject(new CosignkitError('USAGE', `not an http(s) URL: ${target.protocol}`));
  const client = httpClient(target.protocol);
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(body, 'utf8');
    const request = client.request(
      target,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': payload.length,
          accept: options.accept,
        },
        signal: options.signal,
      },
      (response) => {
        const declared = Number(response.headers['content-length'] ?? 0);
        const limit = options.maxAnswerBytes;
        const tooLarge = () =>
          new ServiceHttpError(response.statusCode ?? 0, `answer larger than ${limit} bytes`, true);
        if (declared > limit) {
          response.destroy();
          reject(tooLarge());
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) {
            response.destroy();
            reject(tooLarge());
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            statusText: response.statusMessage ?? '',
            data: Buffer.concat(chunks),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    // 'finish': the whole request is with the operating system (after the connection, and TLS, are made).
    if (options.onSent) request.once('finish', options.onSent);
    request.end(payload);
  });
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
