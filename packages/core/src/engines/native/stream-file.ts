import { createReadStream } from 'node:fs';
import { CosignkitError } from '../../errors.js';
import { assertReadableFile, fileError } from '../../digest.js';

/** Same read size as digestFile: 1 MiB chunks, flat memory. */
const CHUNK = 1024 * 1024;

export interface ChunkSink {
  update(chunk: Buffer): unknown;
}

/** Feeds the file once, chunk by chunk, to every sink (hashes and signature verifiers alike). */
export async function streamFileTo(path: string, sinks: readonly ChunkSink[], signal?: AbortSignal): Promise<void> {
  await assertReadableFile(path);
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK, signal })) {
      for (const sink of sinks) sink.update(chunk as Buffer);
    }
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw new CosignkitError('ABORTED', 'the operation was aborted', { cause: error });
    throw fileError(path, error);
  }
}
