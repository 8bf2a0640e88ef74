import type { BatchItemResult, VerificationResult } from '@cosignkit/core';
import type { CommandContext, CommandResult, LiveIo } from '../command.js';
import { Progress } from './progress.js';
import { safeJson, safeLine } from '../safe-output.js';

/** What the batch's JSON line and summary say about one item. */
export interface ItemReport {
  file: string;
  status: 'ok' | 'skipped' | 'failed' | 'unverified';
  /** Extra fields for the JSON line (outputs, digest). */
  fields?: Record<string, unknown>;
  /** One line for stderr (failures). */
  message?: string;
  code?: string;
}

const silentIo: LiveIo = { stdout: () => undefined, stderr: () => undefined, stderrIsTTY: false };

/**
 * Drains a batch: one JSON line per item on stdout with --json, each failure as one line on stderr, a
 * progress bar on a terminal, and a summary line at the end. Exit code: 0 when every item succeeded (or was
 * skipped), 2 when any verification failed, 1 otherwise.
 */
export async function runBatch<I, R>(
  context: CommandContext,
  verb: { done: string; command: string },
  total: number,
  results: AsyncIterable<BatchItemResult<I, R>>,
  report: (item: BatchItemResult<I, R>) => ItemReport,
): Promise<CommandResult> {
  const io = context.io ?? silentIo;
  const progress = new Progress(io, total);
  const counts = { ok: 0, skipped: 0, failed: 0, unverified: 0 };
  try {
    for await (const item of results) {
      const r = report(item);
      counts[r.status]++;
      if (context.json) {
        // File names come from directory walks: JSON-escaped, so a hostile name cannot drive the terminal.
        io.stdout(
          `${safeJson(
            JSON.stringify({
              file: r.file,
              status: r.status,
              ...r.fields,
              ...(r.code ? { error: { code: r.code, message: r.message } } : {}),
            }),
          )}\n`,
        );
      }
      if (r.status === 'failed' || r.status === 'unverified') {
        progress.line(safeLine(`cosignkit: ${r.file}: ${r.message ?? 'failed'} [${r.code ?? 'INTERNAL'}]`));
      }
      progress.tick();
    }
  } finally {
    progress.clear();
  }
  const seconds = progress.elapsedSeconds;
  const processed = counts.ok + counts.skipped + counts.failed + counts.unverified;
  const rate = seconds > 0 ? Math.round(processed / seconds) : processed;
  const parts = [`${verb.done} ${counts.ok}`];
  if (counts.skipped) parts.push(`skipped ${counts.skipped}`);
  if (counts.unverified) parts.push(`failed verification ${counts.unverified}`);
  if (counts.failed) parts.push(`failed ${counts.failed}`);
  const notRun = total - processed;
  if (notRun > 0) parts.push(`not run ${notRun}`);
  const summary = `${verb.command}: ${parts.join(', ')} of ${total} in ${seconds.toFixed(1)}s (${rate}/s)`;
  const exitCode = counts.unverified > 0 ? 2 : counts.failed > 0 || notRun > 0 ? 1 : 0;
  return {
    exitCode,
    streamed: true,
    notes: [summary],
    data: { total, ...counts, notRun, seconds },
  };
}

/** The common shape of a failed item's report. */
export function failedReport(
  file: string,
  item: { status: 'failed'; error: { code: string; message: string } },
): ItemReport {
  return { file, status: 'failed', code: item.error.code, message: item.error.message };
}

/** A verification result as an item report: `unverified` with the first failure's message. */
export function verificationReport(
  file: string,
  result: VerificationResult,
  fields: Record<string, unknown>,
): ItemReport {
  if (result.verified) return { file, status: 'ok', fields: { ...fields, digest: result.artifact?.digest } };
  const failure = result.failures[0];
  return {
    file,
    status: 'unverified',
    fields,
    code: failure?.code ?? 'VERIFICATION_FAILED',
    message: failure?.message ?? 'the signature does not match the file and key',
  };
}
