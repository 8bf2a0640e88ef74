import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { CosignkitError, type Logger } from '@cosignkit/core';
import { wrapPkcs11Error } from './pkcs11-errors.js';
import type { SignMessage, SignWorkerInit } from './sign-worker.js';

// The values sign-worker.ts uses (only its types are imported: importing it would run it).
const ROLE = 'cosignkit-pkcs11-sign';
const CLOSE = 'close';
const STARTUP = 0xffffffff;
const SIGNED = 0;
const REPLY_HEADER = 7;
/** Requests one after another before a thread starts anyway (without `loneOnCaller`). */
const SEQUENTIAL_START = 16;
/** Requests count as one at a time after this long without any overlap. */
const LONE_AFTER_MS = 100;
/** How long close() waits for a thread to close its session before terminating it. */
const CLOSE_GRACE_MS = 5_000;

export type SpawnWorker = (file: URL, options: WorkerOptions) => Worker;

/**
 * What a signature resolves to, made from the raw r‖s at `bytes[start..end)` of a reply (which other replies
 * share): the caller's own form of it, read in place (issue 19: no copy first), in memory of its own. A throw
 * rejects the request.
 */
export type Answer = (bytes: Uint8Array, start: number, end: number) => Uint8Array;

export interface SignThreadsInit {
  modulePath: string;
  /** The CK_SLOT_ID as graphene holds it (`Slot.handle`). */
  slot: Buffer;
  /** At most this many threads (each with one session); more are started only while all are busy. */
  threads: number;
  logger: Logger;
  /**
   * While requests come one at a time (none found another in flight for 100 ms), they go to the caller (`here`)
   * even with a thread ready: C_SignInit then waits on no C_Sign, and a lone caller saves two thread
   * hand-offs. Default true.
   */
  loneOnCaller?: boolean;
  /** Starts a thread (the tests wrap it to reach the Worker). */
  spawn?: SpawnWorker;
}

/**
 * A request posted to a thread. One plain object per signature with the promise's own resolvers, not wrapper
 * closures: what the main thread allocates per signature is what makes its scavenges come (issue 19).
 */
interface Waiting {
  resolve(signature: Uint8Array): void;
  reject(error: unknown): void;
  answer: Answer;
  /** The caller's signal and the listener on it, when it gave one: removed once the request is settled. */
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface Thread {
  worker: Worker;
  /** Set by the thread's first message: its session is open. Requests go to ready threads only. */
  ready: boolean;
  pending: Map<number, Waiting>;
  /** Requests not posted yet: the ones made in one turn of the event loop go in one message. */
  outbox: RequestWriter;
  /** Set once the thread is closing or gone: it takes no more requests. */
  ended: boolean;
  exited: Promise<void>;
}

/**
 * Signing threads for one token. C_SignInit is synchronous in pkcs11js and, under concurrent C_Sign calls on
 * the libuv pool, SoftHSM2 held the event loop in it for milliseconds at a time: every per-signature PKCS#11
 * call (C_SignInit, C_Sign) runs in a worker_thread instead, synchronously there, and the main thread only
 * posts a key handle and a digest and receives r‖s. The threads share the process's login; they need no PIN.
 *
 * A thread takes tens of milliseconds to start (hundreds on a loaded machine), more than a one-shot command
 * signs for, and signatures one after another never block the loop for long (C_SignInit waits on SoftHSM2's
 * locks only behind another signature in flight). So a thread starts only when a request arrives while another
 * is in flight; until one is ready, and while requests come one at a time, the caller's own way of signing
 * (`here`) is used.
 */
export class SignThreads {
  readonly #init: SignThreadsInit;
  readonly #spawn: SpawnWorker;
  readonly #loneOnCaller: boolean;
  readonly #threads: Thread[] = [];
  readonly #readyWaiters: { resolve(): void; reject(error: unknown): void }[] = [];
  #requests = 0;
  /** When a request last found another in flight. */
  #overlapAt = Number.NEGATIVE_INFINITY;
  /** Requests being signed by the callers themselves right now. */
  #here = 0;
  #nextId = 0;
  /** Why threads cannot be used here (a start-up failure): the callers sign on their own thread for good. */
  #unavailable: CosignkitError | undefined;
  #closed: Promise<void> | undefined;

  constructor(init: SignThreadsInit) {
    this.#init = init;
    this.#loneOnCaller = init.loneOnCaller !== false;
    this.#spawn = init.spawn ?? ((file, options) => new Worker(file, options));
  }

  /**
   * Signs a digest with the private key object `key` (CKM_ECDSA) on a ready thread, resolving to the token's
   * raw r‖s (or what `answer` makes of it); with no thread ready, or while requests come one at a time (see `loneOnCaller`), calls `here` (the
   * caller's own way of signing) instead.
   */
  sign(
    key: Buffer,
    digest: Uint8Array,
    signal: AbortSignal | undefined,
    here: () => Promise<Uint8Array>,
    answer: Answer = copyOf,
  ): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(closedError());
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    this.#requests++;
    const alone = this.#loneOnCaller && this.#alone();
    const thread = this.#pick();
    // The wire gives each length one byte (a handle is 8 bytes, a digest at most 64): anything longer stays here.
    if (!thread || alone || key.length > 255 || digest.length > 255) {
      this.#here++;
      const done = (): void => {
        this.#here--;
      };
      const signing = here();
      signing.then(done, done);
      return signing;
    }
    const id = this.#nextId;
    this.#nextId = (id + 1) % STARTUP; // a u32 on the wire, never STARTUP's
    const waiting: Waiting = { resolve: noop, reject: noop, answer, signal: undefined, onAbort: undefined };
    const promise = new Promise<Uint8Array>((resolve, reject) => {
      waiting.resolve = resolve;
      waiting.reject = reject;
    });
    if (signal) {
      waiting.signal = signal;
      waiting.onAbort = () => {
        // The token finishes what it started; its answer is dropped.
        if (thread.pending.delete(id)) settle(thread, waiting);
        waiting.reject(abortedError(signal));
      };
      signal.addEventListener('abort', waiting.onAbort, { once: true });
    }
    if (thread.pending.size === 0) thread.worker.ref(); // a signature in flight keeps the process alive
    thread.pending.set(id, waiting);
    // Written now: the caller may reuse its digest's memory once sign() returns.
    if (thread.outbox.add(id, key, digest) === 1) setImmediate(() => this.#flush(thread));
    return promise;
  }

  /** Starts a thread unless one is up, and resolves once one is ready to sign (rejects if none can start). */
  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    if (this.#unavailable) return Promise.reject(this.#unavailable);
    if (this.#threads.some((t) => t.ready && !t.ended)) return Promise.resolve();
    if (!this.#threads.some((t) => !t.ended)) this.#start();
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  /**
   * True while requests come one at a time: no request in the last 100 ms found another in flight. A lone
   * caller then signs on its own (C_SignInit waits on no C_Sign, and two thread hand-offs are saved).
   */
  #alone(): boolean {
    let inFlight = this.#here;
    // Index loops here and in #pick: an iterator per call is garbage made per signature.
    for (let i = 0; i < this.#threads.length; i++) inFlight += this.#threads[i]!.pending.size;
    const now = performance.now();
    if (inFlight > 0) this.#overlapAt = now;
    return now - this.#overlapAt > LONE_AFTER_MS;
  }

  /** Ends every thread (after the requests already posted): each closes its session and exits. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.all(this.#threads.map((thread) => this.#end(thread)));
      for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(closedError());
    })();
    return this.#closed;
  }

  /**
   * The ready thread with the fewest requests in flight, or undefined when none is ready. Starts a thread (one
   * at a time) while none is up and requests overlap (or the 16th came), or while every ready one is busy and
   * room is left.
   */
  #pick(): Thread | undefined {
    let best: Thread | undefined;
    let starting = false;
    let live = 0;
    for (let i = 0; i < this.#threads.length; i++) {
      const thread = this.#threads[i]!;
      if (thread.ended) continue;
      live++;
      if (!thread.ready) starting = true;
      else if (!best || thread.pending.size < best.pending.size) best = thread;
    }
    // Lone requests stay with the caller anyway: only overlapping ones are a reason to start a thread then.
    const sequential = !this.#loneOnCaller && this.#requests >= SEQUENTIAL_START;
    const busy = best === undefined ? this.#here > 0 || sequential : best.pending.size > 0;
    if (busy && !starting && !this.#unavailable && live < Math.max(1, this.#init.threads)) this.#start();
    return best;
  }

  #flush(thread: Thread): void {
    if (thread.outbox.count === 0 || thread.ended) return; // a failed thread rejected these already
    thread.worker.postMessage(thread.outbox.take());
  }

  #start(): void {
    const init: SignWorkerInit = {
      role: ROLE,
      pkcs11js: pkcs11jsPath(),
      modulePath: this.#init.modulePath,
      slot: new Uint8Array(this.#init.slot),
    };
    let worker: Worker;
    try {
      worker = this.#spawn(workerFile(), {
        workerData: init,
        // The thread needs none of the parent's stdio; its only output is its messages.
        stdout: true,
        stderr: true,
        env: {},
      });
    } catch (error) {
      this.#cannotStart(failure(`cannot start a PKCS#11 signing thread: ${oneLine(error)}`, error));
      return;
    }
    worker.unref(); // a thread waiting for work does not keep the process alive
    let exited!: () => void;
    const thread: Thread = {
      worker,
      ready: false,
      pending: new Map(),
      outbox: new RequestWriter(),
      ended: false,
      exited: new Promise((r) => (exited = r)),
    };
    this.#threads.push(thread);
    worker.on('message', (replies: SignMessage) => {
      if (!thread.ready) {
        if (replies.length >= REPLY_HEADER && readU32(replies, 0) === STARTUP) {
          const error = wrapPkcs11Error(pkcs11Error(replies, REPLY_HEADER), 'cannot start a PKCS#11 signing thread');
          this.#fail(thread, error);
          this.#cannotStart(error);
          return;
        }
        thread.ready = true; // its first message: the session is open
        this.#init.logger.debug('pkcs11: signing thread ready', { threads: this.#threads.length });
        for (const waiter of this.#readyWaiters.splice(0)) waiter.resolve();
      }
      // Read in place: a view per message and per reply was garbage the main thread made per signature.
      for (let at = 0; at + REPLY_HEADER <= replies.length; ) {
        const id = readU32(replies, at);
        const status = replies[at + 4];
        const start = at + REPLY_HEADER;
        at = start + (replies[at + 5]! | (replies[at + 6]! << 8));
        const waiting = thread.pending.get(id);
        if (!waiting) continue; // aborted meanwhile
        thread.pending.delete(id);
        settle(thread, waiting);
        if (status !== SIGNED) waiting.reject(pkcs11Error(replies, start, at));
        else {
          try {
            waiting.resolve(waiting.answer(replies, start, Math.min(at, replies.length)));
          } catch (error) {
            waiting.reject(error);
          }
        }
      }
    });
    worker.on('error', (error) => {
      const failed = failure(`the PKCS#11 signing thread failed: ${oneLine(error)}`, error);
      if (!thread.ready) this.#cannotStart(failed);
      this.#fail(thread, failed);
    });
    worker.on('exit', (code) => {
      if (!thread.ended || thread.pending.size > 0) {
        const failed = failure(`the PKCS#11 signing thread stopped unexpectedly (exit code ${code})`);
        if (!thread.ready) this.#cannotStart(failed);
        this.#fail(thread, failed);
      }
      thread.ended = true;
      exited();
    });
  }

  /** No thread can start here: the callers keep signing on their own thread (said once, as a warning). */
  #cannotStart(error: CosignkitError): void {
    if (this.#unavailable) return;
    this.#unavailable = error;
    this.#init.logger.warn('pkcs11: signing threads unavailable; signing on the main thread', {
      error: error.message,
    });
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(error);
  }

  /** Takes a thread out of use and rejects what it still owed; a later request may start a fresh one. */
  #fail(thread: Thread, error: CosignkitError): void {
    thread.ended = true;
    thread.outbox.take();
    const at = this.#threads.indexOf(thread);
    if (at >= 0) this.#threads.splice(at, 1);
    const waiting = [...thread.pending.values()];
    thread.pending.clear();
    for (const w of waiting) {
      settle(thread, w);
      w.reject(error);
    }
    if (waiting.length === 0 && thread.ready) {
      // Nobody was waiting: the failure would go unseen otherwise.
      this.#init.logger.warn('pkcs11: signing thread failed', { error: error.message });
    }
    void thread.worker.terminate();
  }

  async #end(thread: Thread): Promise<void> {
    if (!thread.ended) {
      if (!thread.ready) {
        thread.ended = true;
        // Still starting (tens of milliseconds, mostly Node's own start-up) and owed nothing: not worth
        // waiting for. A session it may have opened already lasts until the module is finalized.
        await thread.worker.terminate();
        return;
      }
      this.#flush(thread); // the requests made before close() go first
      thread.ended = true;
      thread.worker.ref();
      thread.worker.postMessage(CLOSE);
      const timer = setTimeout(() => void thread.worker.terminate(), CLOSE_GRACE_MS);
      await thread.exited;
      clearTimeout(timer);
    }
    await thread.exited;
  }
}

/** sign-worker.js beside the bundle in dist; the TypeScript source when this file runs from src (the tests). */
function workerFile(): URL {
  const built = new URL('./sign-worker.js', import.meta.url);
  return existsSync(built) ? built : new URL('./sign-worker.ts', import.meta.url);
}

let pkcs11js: string | undefined;

/** The pkcs11js graphene-pk11 loads (a dependency of graphene's, not of this package). */
function pkcs11jsPath(): string {
  if (pkcs11js) return pkcs11js;
  const fromHere = createRequire(import.meta.url);
  pkcs11js = createRequire(fromHere.resolve('graphene-pk11')).resolve('pkcs11js');
  return pkcs11js;
}

function noop(): void {}

/** The raw r‖s itself, copied: the caller's signature must not share memory with the other replies. */
function copyOf(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return bytes.slice(start, end);
}

/** A request is settled: its abort listener goes, and a thread owed nothing more lets the process exit. */
function settle(thread: Thread, waiting: Waiting): void {
  if (waiting.onAbort) waiting.signal?.removeEventListener('abort', waiting.onAbort);
  if (thread.pending.size === 0) thread.worker.unref();
}

/** A little-endian u32 of a reply, read in place. */
function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)) + bytes[at + 3]! * 0x1000000;
}

/**
 * A pkcs11js error rebuilt from a reply's payload (`bytes` from `start` to `end`, or to the length the reply
 * header at `start - REPLY_HEADER` gives): an Error with the CK_RV as `code`, as pkcs11-errors.ts expects.
 */
function pkcs11Error(bytes: Uint8Array, start: number, end?: number): Error {
  const stop = end ?? start + (bytes[start - 2]! | (bytes[start - 1]! << 8));
  const payload = Buffer.from(
    bytes.buffer,
    bytes.byteOffset + start,
    Math.max(0, Math.min(stop, bytes.length) - start),
  );
  let error: { message?: unknown; code?: unknown } = {};
  try {
    error = JSON.parse(payload.toString('utf8')) as typeof error;
  } catch {
    // Not from a signing thread of this version: said as such below.
  }
  const message = typeof error.message === 'string' ? error.message : 'the signing thread sent an unreadable error';
  return Object.assign(new Error(message), typeof error.code === 'number' ? { code: error.code } : {});
}

/**
 * Requests packed as a signing thread reads them (sign-worker.ts: SignMessage), written as they are made (the
 * caller may reuse its buffers once sign() returns) into a buffer kept from one message to the next.
 */
class RequestWriter {
  #bytes = Buffer.alloc(1024);
  #length = 0;
  count = 0;

  /** Adds one request; the number now waiting to be posted. */
  add(id: number, key: Uint8Array, digest: Uint8Array): number {
    const end = this.#length + 6 + key.length + digest.length;
    if (end > this.#bytes.length) {
      const grown = Buffer.alloc(2 * end);
      this.#bytes.copy(grown, 0, 0, this.#length);
      this.#bytes = grown;
    }
    let at = this.#length;
    // By hand: writeUInt32LE's range check allocates.
    this.#bytes[at] = id & 0xff;
    this.#bytes[at + 1] = (id >>> 8) & 0xff;
    this.#bytes[at + 2] = (id >>> 16) & 0xff;
    this.#bytes[at + 3] = id >>> 24;
    this.#bytes[at + 4] = key.length;
    this.#bytes.set(key, at + 5);
    at += 5 + key.length;
    this.#bytes[at] = digest.length;
    this.#bytes.set(digest, at + 1);
    this.#length = end;
    return ++this.count;
  }

  /** The requests so far, copied to a buffer of their own (a view would send the whole one), and a fresh start. */
  take(): SignMessage {
    const message = new Uint8Array(this.#bytes.subarray(0, this.#length));
    this.#length = 0;
    this.count = 0;
    return message;
  }
}

function failure(message: string, cause?: unknown): CosignkitError {
  return new CosignkitError('BACKEND_FAILURE', message, cause === undefined ? {} : { cause });
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

function closedError(): CosignkitError {
  return new CosignkitError('BACKEND_UNAVAILABLE', 'the PKCS#11 key store is closed');
}

function abortedError(signal: AbortSignal): CosignkitError {
  return new CosignkitError('ABORTED', 'the operation was aborted', { cause: signal.reason });
}
