import { setImmediate as nextTurn } from 'node:timers/promises';

/** How long synchronous batch work may hold the event loop before it lets timers, signals and I/O run. */
export const SLICE_MS = 10;

/**
 * For work that is synchronous per item (a small file read, hashed, signed and written with plain syscalls):
 * such items complete in microtasks only, so without a pause the event loop would not turn until the whole
 * batch ended, and Ctrl-C (the abort signal), progress output and piped --json lines would wait for it. The
 * returned function gives a promise to await when a slice has run out (one event-loop turn), else undefined.
 */
export function createTimeSlicer(sliceMs: number = SLICE_MS): () => Promise<void> | undefined {
  let sliceStart = performance.now();
  return () => {
    const now = performance.now();
    if (now - sliceStart < sliceMs) return undefined;
    return nextTurn().then(() => {
      sliceStart = performance.now();
    });
  };
}
