import { escapeForTerminal, toCosignkitError } from '@cosignkit/core';
import { redactKeyRef } from '@cosignkit/core';
import type { CommandResult } from '../command.js';
import type { SigningMode } from '../keyless-sign-options.js';

/** What one image's signing gave: a note line for people and the JSON result. */
export interface ImageOutcome {
  note: string;
  notes?: string[];
  data: Record<string, unknown>;
}

/**
 * Runs `work` over several image references, `jobs` at a time (issue 16's `sign` with many references):
 * each failure is one line naming its image and code, and the batch goes on unless `failFast`. One image
 * keeps the one-image output (its own notes; an error is thrown as before). Exit 0 only when every image
 * was signed, 1 otherwise.
 */
export async function runImageBatch(
  command: string,
  verb: string,
  images: readonly string[],
  options: { jobs: number; failFast: boolean; signal: AbortSignal },
  work: (image: string) => Promise<ImageOutcome>,
): Promise<CommandResult> {
  if (images.length === 1) {
    const done = await work(images[0]!);
    return { text: '', data: done.data, notes: [...(done.notes ?? []), done.note] };
  }
  const started = Date.now();
  const results: Record<string, unknown>[] = new Array(images.length);
  const lines: string[] = new Array(images.length);
  let next = 0;
  let failed = 0;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop && !options.signal.aborted && next < images.length) {
      const i = next++;
      const image = images[i]!;
      try {
        const done = await work(image);
        results[i] = { image, status: 'ok', ...done.data };
        lines[i] = done.note;
      } catch (error) {
        const e = toCosignkitError(error);
        failed++;
        results[i] = { image, status: 'failed', error: { code: e.code, message: e.message } };
        lines[i] = `cosignkit: ${image}: ${e.message} [${e.code}]`;
        if (options.failFast) stop = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.jobs, images.length) }, worker));
  const ran = results.filter(Boolean).length;
  const ok = ran - failed;
  const parts = [`${verb} ${ok}`];
  if (failed) parts.push(`failed ${failed}`);
  if (ran < images.length) parts.push(`not run ${images.length - ran}`);
  const seconds = (Date.now() - started) / 1000;
  return {
    exitCode: failed > 0 || ran < images.length ? 1 : 0,
    text: '',
    data: { total: images.length, ok, failed, notRun: images.length - ran, results: results.filter(Boolean) },
    notes: [
      ...lines.filter((l) => l !== undefined).map(escapeForTerminal),
      `${command}: ${parts.join(', ')} of ${images.length} in ${seconds.toFixed(1)}s`,
    ],
  };
}

/** What a keyless (or keyed-with-a-log) image signature or attestation reports, for `sign` and `attest`. */
export function sigstoreImageOutcome(
  verb: 'Signed' | 'Attested',
  mode: Exclude<SigningMode, { kind: 'key' }>,
  prepared: { notes: string[]; identity?: { subject: string; issuer: string } },
  result: { image: string; format: string; location: string; logIndex?: string },
  extraNotes: string[] = [],
): ImageOutcome {
  return {
    data: {
      engine: 'native',
      mode: mode.kind,
      ...result,
      ...(mode.kind === 'keyed-log' ? { key: redactKeyRef(mode.key) } : {}),
      ...(prepared.identity ? { identity: prepared.identity } : {}),
    },
    notes: [
      'engine: native',
      ...prepared.notes,
      ...extraNotes,
      ...(result.logIndex !== undefined ? [`tlog entry created with index: ${result.logIndex}`] : []),
    ],
    note: `${verb} ${result.image} (${result.format}): ${result.location}`,
  };
}
