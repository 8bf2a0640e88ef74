import { CosignkitError, type ErrorCode } from '@cosignkit/core';
import { abortedError, formatMs } from './registry-deadline.js';

export interface BoundedBodyOptions {
  /** More bytes than this (declared or received) end the read. */
  maxBytes: number;
  /** The longest pause between two chunks. */
  idleMs: number;
  /** What is read, for messages ("the manifest of …"). */
  what: string;
  /** The exchange's signal (deadline and caller), to tell a timeout from a broken connection. */
  signal?: AbortSignal;
  timeoutMs?: number;
  /** The code for a body over the limit. Default REGISTRY_ERROR. */
  tooLarge?: ErrorCode;
}

/**
 * Reads a response body counting bytes as they arrive: Content-Length is only a hint (a chunked body has
 * none), so the limit holds for any body, and a body that stalls between chunks ends with TIMEOUT.
 */
export async function readBoundedBody(response: Response, o: BoundedBodyOptions): Promise<Buffer> {
  const tooLarge = (): CosignkitError =>
    new CosignkitError(o.tooLarge ?? 'REGISTRY_ERROR', `${o.what} is larger than ${o.maxBytes} bytes`, {
      details: { limit: o.maxBytes },
    });
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > o.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await readWithin(reader, o);
      if (done) break;
      total += value.byteLength;
      if (total > o.maxBytes) throw tooLarge();
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    if (CosignkitError.isInstance(error)) throw error;
    if (o.signal?.aborted) throw abortedError(o.signal, `reading ${o.what}`, o.timeoutMs ?? 0, error);
    throw new CosignkitError('REGISTRY_UNAVAILABLE', `the connection broke while reading ${o.what}`, { cause: error });
  }
  return Buffer.concat(chunks, total);
}

type Reader = ReadableStreamDefaultReader<Uint8Array>;

async function readWithin(reader: Reader, o: BoundedBodyOptions): Promise<Awaited<ReturnType<Reader['read']>>> {
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CosignkitError('TIMEOUT', `${o.what} stalled: nothing received for ${formatMs(o.idleMs)}`, {
            details: { idleMs: o.idleMs },
          }),
        ),
      o.idleMs,
    );
  });
  try {
    return await Promise.race([reader.read(), idle]);
  } finally {
    clearTimeout(timer);
  }
}
