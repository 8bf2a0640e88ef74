import { Worker } from 'node:worker_threads';
import type { PendingOutput } from '@cosignkit/core';
import { CosignkitError, PUBLIC_OUTPUT_MODE } from '@cosignkit/core';
import { commitSmallOutputs, outputErrorOf } from './commit-small-outputs.js';

/**
 * Outputs committed through the thread pool before a writer thread is started. Starting one is a Node
 * environment's start (tens of milliseconds of CPU on a quiet machine, ~0.2 s on a busy one: 1,000 small
 * files cost ~20% more CPU with the thread than without), which pays back only over thousands of files.
 */
export const WRITER_AFTER = 1000;
/**
 * Writer threads. Replacing an existing output (re-signing a directory) frees the old file's inode in the
 * rename, which on ext4 here took ~1 ms of waiting on the journal: one thread spent 11 s of a 10,000-file run
 * in rename while the main thread idled. Several threads wait on those in parallel, as libuv's four did;
 * they are started one at a time, only while those up are behind (each costs a Node environment's start).
 */
export const WRITER_THREADS = 4;
/** How long every writer thread must have been busy without a break before another is started. */
const BEHIND_MS = 20;

/**
 * The writer thread's code: commitSmallOutputs's steps, with plain syscalls, for one item's outputs (temps named by the main
 * thread). Plain CommonJS run with `eval`, so it needs no file of its own beside whichever bundle this module
 * ends up in. It only ever receives paths and public bytes (bundles, signatures), never key material. Its
 * answers for the items of one event-loop turn go back in one message.
 */
const WRITER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
let answers = [];
let flushing = false;
function commit(item) {
  const written = [];
  let current = item.outputs[0] ? item.outputs[0].path : 'output';
  try {
    for (const output of item.outputs) {
      current = output.path;
      const fd = fs.openSync(output.temp, 'wx', output.mode);
      written.push(output.temp);
      try {
        const bytes = Buffer.from(output.data);
        if (fs.writeSync(fd, bytes) !== bytes.length) return { id: item.id, path: current, code: 'IO', message: 'short write' };
      } finally {
        fs.closeSync(fd);
      }
    }
    if (item.outputs.length > 1) {
      for (const output of item.outputs) {
        current = output.path;
        const info = fs.statSync(output.path, { throwIfNoEntry: false });
        if (info && !info.isFile()) return { id: item.id, path: current, code: 'NOT_A_FILE', message: 'it is not a regular file' };
      }
    }
    for (const output of item.outputs) {
      current = output.path;
      fs.renameSync(output.temp, output.path);
      written.shift();
    }
    return { id: item.id };
  } catch (error) {
    return { id: item.id, path: current, errno: (error && error.code) || 'error' };
  } finally {
    for (const temp of written) { try { fs.unlinkSync(temp); } catch {} }
  }
}
parentPort.on('message', (item) => {
  answers.push(commit(item));
  if (!flushing) {
    flushing = true;
    setImmediate(() => { flushing = false; parentPort.postMessage(answers); answers = []; });
  }
});
`;

interface WriterAnswer {
  id: number;
  path?: string;
  /** A cosignkit error code (short write, a target that is not a file), with its reason. */
  code?: 'IO' | 'NOT_A_FILE';
  message?: string;
  /** A system error's code (ENOENT, EISDIR, EACCES, ENOSPC…), mapped as commitSmallOutputs maps it. */
  errno?: string;
}

export interface OutputWriter {
  /** Commits one item's outputs (commitSmallOutputs's guarantees); settles when they are in place. */
  commit(outputs: readonly PendingOutput[]): Promise<void>;
  /** Stops the writer thread once no commit is pending. */
  close(): Promise<void>;
  /** Whether commits now go to the writer thread (for tests and diagnostics). */
  readonly threaded: boolean;
}

/**
 * A batch's output writer: creating and renaming small files is the kernel's costliest step of signing a
 * small file (on ext4 here, more than reading, hashing and signing it), so after WRITER_AFTER items it runs on
 * threads of its own (WRITER_THREADS, items dealt in turn) while the main thread reads and signs the next
 * files. One message per item each way at most (answers are grouped), against the four thread-pool round
 * trips per file asynchronous fs calls cost (the main thread's time went to waiting on the pool's lock:
 * ~135,000 futex calls for 10,000 files). Until a thread is up (and if none can start) outputs are committed
 * through the thread pool (commitSmallOutputs): for a batch of up to WRITER_AFTER files that measured best.
 */
export function createOutputWriter(tempFor: (path: string) => string): OutputWriter {
  let committed = 0;
  let started = false;
  let failed = false;
  let nextId = 0;
  let turn = 0;
  const workers: Worker[] = [];
  /** The threads that are up, in the order they came up: items go to them in turn. */
  const online: Worker[] = [];
  const waiting = new Map<number, { resolve: () => void; reject: (error: unknown) => void }>();

  const settle = (answers: WriterAnswer[]): void => {
    for (const answer of answers) {
      const item = waiting.get(answer.id);
      if (!item) continue;
      waiting.delete(answer.id);
      if (answer.code) {
        item.reject(new CosignkitError(answer.code, `cannot write ${answer.path}: ${answer.message}`));
      } else if (answer.errno) {
        item.reject(outputErrorOf(Object.assign(new Error(answer.errno), { code: answer.errno }), answer.path!));
      } else {
        item.resolve();
      }
    }
  };
  // One thread gone wrong stops them all: what was queued fails (each item reports it), and what comes next is
  // committed through the thread pool.
  const stop = (reason: string): void => {
    if (failed) return;
    failed = true;
    online.length = 0;
    for (const item of waiting.values()) {
      item.reject(new CosignkitError('INTERNAL', `an output writer thread stopped: ${reason}`));
    }
    waiting.clear();
    for (const worker of workers) void worker.terminate();
  };
  /** Items sent to each thread and not answered yet. */
  const pending = new Map<Worker, number>();
  /** Since when each thread has had items unanswered without a break (performance.now()). */
  const busySince = new Map<Worker, number>();
  let booting = false;
  const startOne = (): void => {
    booting = true;
    try {
      const worker = new Worker(WRITER_SOURCE, { eval: true, stdout: false, stderr: false });
      workers.push(worker);
      pending.set(worker, 0);
      // Never what keeps the process alive: a batch that ends (or is abandoned) does not wait for the threads.
      worker.unref();
      worker.once('online', () => {
        booting = false;
        if (!failed) online.push(worker);
      });
      worker.on('message', (answers: WriterAnswer[]) => {
        const left = (pending.get(worker) ?? 0) - answers.length;
        pending.set(worker, left);
        if (left === 0) busySince.delete(worker);
        settle(answers);
      });
      worker.on('error', () => stop('error'));
      worker.on('exit', (code) => stop(`exit ${code}`));
    } catch {
      stop('cannot start');
    }
  };
  /**
   * One more thread while there are fewer than WRITER_THREADS and every one up has been behind for a while
   * (items unanswered without a break for BEHIND_MS: the main thread is then waiting on them). A file system
   * that creates and renames quickly keeps one thread idle between items, and never costs a second.
   */
  const growIfBehind = (now: number): void => {
    if (booting || failed || workers.length >= WRITER_THREADS) return;
    for (const worker of online) {
      const since = busySince.get(worker);
      if (since === undefined || now - since < BEHIND_MS) return;
    }
    startOne();
  };

  return {
    commit(outputs) {
      committed++;
      if (!started && committed > WRITER_AFTER) {
        started = true;
        startOne();
      }
      if (online.length === 0) return commitSmallOutputs(outputs, tempFor);
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        const now = performance.now();
        growIfBehind(now);
        const worker = online[turn++ % online.length]!;
        pending.set(worker, (pending.get(worker) ?? 0) + 1);
        if (!busySince.has(worker)) busySince.set(worker, now);
        worker.postMessage({
          id,
          outputs: outputs.map((o) => ({
            path: o.path,
            temp: tempFor(o.path),
            data: o.data,
            mode: o.mode ?? PUBLIC_OUTPUT_MODE,
          })),
        });
      });
    },
    get threaded() {
      return online.length > 0;
    },
    async close() {
      failed = true;
      online.length = 0;
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}
