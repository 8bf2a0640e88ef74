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
  // Items finish into a queue (O(1) an item; a Promise.race over every running item on each pass cost O(jobs)
  // and a handler per item per pass); the loop sleeps on `wake` only when the queue is empty.
  const running = new Set<Promise<void>>();
  const finished: BatchItemResult<I, R>[] = [];
  let wake: (() => void) | undefined;
  let exhausted = false;
  let stop = false;

  const start = (input: I): void => {
    const task = work(input).then(
      (outcome) => {
        finished.push({ ...outcome, input });
      },
      (error: unknown) => {
        finished.push({ status: 'failed', input, error: toCosignkitError(error, 'INTERNAL') });
      },
    );
    running.add(task);
    void task.then(() => {
      running.delete(task);
      wake?.();
    });
  };

  try {
    while (true) {
      // Finished items not yet yielded count against `jobs` too: the consumer sets the pace.
      while (!exhausted && !stop && running.size + finished.length < jobs && !signal?.aborted) {
        const next = await iterator.next();
        if (next.done) exhausted = true;
        else start(next.value);
      }
      if (finished.length === 0) {
        if (running.size === 0) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      const outcome = finished.shift()!;
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
