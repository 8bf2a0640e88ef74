import type { BatchInputs, BatchItemResult, BatchOptions } from '@cosignkit/core';
import { CosignkitError, throwIfAborted, toCosignkitError } from '@cosignkit/core';

/** What one item's work returns: its result, or `skipped` when its outputs already existed. */
export type ItemOutcome<R> = { status: 'ok'; result: R } | { status: 'skipped'; result?: R };

export const DEFAULT_JOBS = 8;
/** A bound on --jobs: more only queues file descriptors and sessions without going faster. */
export const MAX_JOBS = 256;

/**
 * Runs `work` over the inputs with at most `jobs` items in flight, yielding each outcome as it completes.
 * Inputs are pulled lazily, so a generator of a million paths is never materialised. An item's error is a
 * `failed` outcome; with `failFast` no new item starts after it (running ones finish and are reported).
 * An abort stops taking items, waits for the running ones, and then throws ABORTED.
 */
export async function* runPool<I, R>(
  inputs: BatchInputs<I>,
  options: BatchOptions,
  work: (input: I) => Promise<ItemOutcome<R>>,
): AsyncGenerator<BatchItemResult<I, R>> {
  const jobs = options.jobs ?? DEFAULT_JOBS;
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > MAX_JOBS) {
    throw new CosignkitError('USAGE', `jobs must be an integer from 1 to ${MAX_JOBS}`);
  }
  const { signal } = options;
  throwIfAborted(signal);
  const iterator =
    Symbol.asyncIterator in inputs
      ? (inputs as AsyncIterable<I>)[Symbol.asyncIterator]()
      : (inputs as Iterable<I>)[Symbol.iterator]();
  const running = new Map<number, Promise<{ id: number; outcome: BatchItemResult<I, R> }>>();
  let nextId = 0;
  let exhausted = false;
  let stop = false;

  const start = (input: I): void => {
    const id = nextId++;
    const task = work(input).then(
      (outcome): { id: number; outcome: BatchItemResult<I, R> } => ({ id, outcome: { ...outcome, input } }),
      (error: unknown) => ({
        id,
        outcome: { status: 'failed', input, error: toCosignkitError(error, 'INTERNAL') } as const,
      }),
    );
    running.set(id, task);
  };

  try {
    while (true) {
      while (!exhausted && !stop && running.size < jobs && !signal?.aborted) {
        const next = await iterator.next();
        if (next.done) exhausted = true;
        else start(next.value);
      }
      if (running.size === 0) break;
      const { id, outcome } = await Promise.race(running.values());
      running.delete(id);
      if (outcome.status === 'failed' && options.failFast) stop = true;
      yield outcome;
    }
    throwIfAborted(signal);
  } finally {
    // A consumer that stops early (break, throw) still waits for started items: no output is left mid-write.
    await Promise.allSettled(running.values());
    if (!exhausted) await iterator.return?.();
  }
}
