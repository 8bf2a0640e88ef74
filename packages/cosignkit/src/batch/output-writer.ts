import { Worker } from 'node:worker_threads';
import type { PendingOutput } from '@cosignkit/core';
import { CosignkitError, PUBLIC_OUTPUT_MODE } from '@cosignkit/core';
import { commitSmallOutputsSync, outputErrorOf } from './commit-small-outputs.js';

/**
 * Outputs committed on the main thread before the writer thread is started: a batch of a few files never
 * pays for a thread (starting one costs tens of milliseconds of CPU).
 */
export const WRITER_AFTER = 64;

/**
 * The writer thread's code: commitSmallOutputsSync's steps for one item's outputs (temps named by the main
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
  /** A system error's code (ENOENT, EISDIR, EACCES, ENOSPC…), mapped as commitSmallOutputsSync maps it. */
  errno?: string;
}

export interface OutputWriter {
  /** Commits one item's outputs (commitSmallOutputsSync's guarantees); settles when they are in place. */
  commit(outputs: readonly PendingOutput[]): Promise<void>;
  /** Stops the writer thread once no commit is pending. */
  close(): Promise<void>;
  /** Whether commits now go to the writer thread (for tests and diagnostics). */
  readonly threaded: boolean;
}

/**
 * A batch's output writer: creating and renaming small files is the kernel's costliest step of signing a
 * small file (on ext4 here, more than reading, hashing and signing it), so after WRITER_AFTER items it runs on
 * a thread of its own while the main thread reads and signs the next files: two cores instead of one. One
 * message per item each way at most (answers are grouped), against the four thread-pool round trips per file
 * asynchronous fs calls would cost. Until the thread is up (and if it cannot start) outputs are committed on
 * the calling thread, with the same steps.
 */
export function createOutputWriter(tempFor: (path: string) => string): OutputWriter {
  let committed = 0;
  let worker: Worker | undefined;
  let ready = false;
  let failed = false;
  let nextId = 0;
  const waiting = new Map<number, { resolve: () => void; reject: (error: unknown) => void }>();

  const start = (): void => {
    try {
      worker = new Worker(WRITER_SOURCE, { eval: true, stdout: false, stderr: false });
    } catch {
      failed = true;
      return;
    }
    // Never what keeps the process alive: a batch that ends (or is abandoned) does not wait for the thread.
    worker.unref();
    worker.once('online', () => {
      ready = true;
    });
    worker.on('message', (answers: WriterAnswer[]) => {
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
    });
    const stop = (reason: string): void => {
      ready = false;
      failed = true;
      for (const item of waiting.values()) {
        item.reject(new CosignkitError('INTERNAL', `the output writer thread stopped: ${reason}`));
      }
      waiting.clear();
    };
    worker.on('error', () => stop('error'));
    worker.on('exit', (code) => stop(`exit ${code}`));
  };

  return {
    commit(outputs) {
      committed++;
      if (!worker && !failed && committed > WRITER_AFTER) start();
      if (!ready) {
        try {
          commitSmallOutputsSync(outputs, tempFor);
          return Promise.resolve();
        } catch (error) {
          return Promise.reject(error);
        }
      }
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker!.postMessage({
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
      return ready;
    },
    async close() {
      const running = worker;
      worker = undefined;
      failed = true;
      ready = false;
      if (running) await running.terminate();
    },
  };
}
