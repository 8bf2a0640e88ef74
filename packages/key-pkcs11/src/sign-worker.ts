// The body of a signing thread (see sign-threads.ts). It runs in a worker_thread of the process that opened
// the store, so it shares that process's PKCS#11 library state: the module is initialized already (C_Initialize
// answers CKR_CRYPTOKI_ALREADY_INITIALIZED) and the token is logged in already (login belongs to the
// application, so a session opened here is a logged-in one). No PIN ever reaches this thread.
//
// It imports nothing from this package: it is loaded on its own (dist/sign-worker.js, or the .ts source under
// the tests), with the path of pkcs11js handed over by the opener.
import { readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';

/** What the opener passes in `workerData`. */
export interface SignWorkerInit {
  role: typeof ROLE;
  /** The resolved path of the pkcs11js package graphene-pk11 uses (one build of the native addon). */
  pkcs11js: string;
  modulePath: string;
  /** The CK_SLOT_ID as pkcs11js handles it (8 bytes). */
  slot: Uint8Array;
}

/**
 * The messages between the opener and a thread are packed bytes, one Uint8Array per message, not an object and
 * two typed arrays per signature: structured cloning and the garbage it left were most of the main thread's
 * share of a signature (issue 19). Integers are little-endian.
 * - requests: per signature `id (u32) ‖ key length (u8) ‖ key (a CK_OBJECT_HANDLE) ‖ digest length (u8) ‖ digest`;
 * - replies: per signature `id (u32) ‖ status (u8) ‖ length (u16) ‖ payload`, the payload being the raw r‖s
 *   (status SIGNED) or the error as JSON `{ message, code? }` (status FAILED). The first message of a thread is
 *   empty (ready: its session is open) or one FAILED reply with id STARTUP (it cannot sign at all).
 * Whatever piled up meanwhile travels in one message, both ways.
 */
export type SignMessage = Uint8Array;

/** Posted by the opener to end the thread: close the session, unload, exit. */
type Close = 'close';
const CLOSE: Close = 'close';
/** The id of the reply that reports a start-up failure. */
const STARTUP = 0xffffffff;
/** Reply statuses. */
const SIGNED = 0;
const FAILED = 1;
/** Marks the workerData of a signing thread (only a type is imported elsewhere: this file runs nothing else). */
const ROLE = 'cosignkit-pkcs11-sign';

interface Pkcs11Lib {
  load(path: string): void;
  close(): void;
  C_Initialize(options: { flags: number }): void;
  C_OpenSession(slot: Buffer, flags: number): Buffer;
  C_CloseSession(session: Buffer): void;
  C_SignInit(session: Buffer, mechanism: { mechanism: number }, key: Buffer): void;
  C_Sign(session: Buffer, data: Buffer, out: Buffer): Buffer;
}

const CKF_OS_LOCKING_OK = 2;
const CKF_SERIAL_SESSION = 4;
const CKM_ECDSA = 0x1041;
/** One mechanism object for every C_SignInit (pkcs11js reads it, never keeps it). */
const ECDSA = { mechanism: CKM_ECDSA };
const CKR_CRYPTOKI_ALREADY_INITIALIZED = 0x191;
const CKR_SESSION_CLOSED = 0xb0;
const CKR_SESSION_HANDLE_INVALID = 0xb3;
/** Signatures answered in one message at most. */
const MAX_BATCH = 32;
/**
 * The niceness this thread runs at (Linux): the weight CFS gives it is about a tenth of a normal thread's, so the
 * main thread and V8's GC helpers, when they wake, take the core from it at once instead of queueing behind it.
 */
const NICENESS = 10;
/** Room for the largest raw r‖s this backend signs (P-384: 96 bytes) and then some. */
const SIGNATURE_ROOM = 256;
/** The bytes a reply takes besides its payload. */
const REPLY_HEADER = 7;

const port = parentPort;

function run(init: SignWorkerInit, port: NonNullable<typeof parentPort>): void {
  lowerPriority();
  let lib: Pkcs11Lib;
  let session: Buffer | undefined;
  const slot = asBuffer(init.slot);
  try {
    const { PKCS11 } = createRequire(import.meta.url)(init.pkcs11js) as { PKCS11: new () => Pkcs11Lib };
    lib = new PKCS11();
    lib.load(init.modulePath);
    try {
      lib.C_Initialize({ flags: CKF_OS_LOCKING_OK });
    } catch (error) {
      // The opener initialized it (and finalizes it): that is the expected case, not a failure.
      if (codeOf(error) !== CKR_CRYPTOKI_ALREADY_INITIALIZED) throw error;
    }
    session = lib.C_OpenSession(slot, CKF_SERIAL_SESSION);
  } catch (error) {
    const replies = new ReplyWriter();
    replies.add(STARTUP, FAILED, errorBytes(error));
    port.postMessage(replies.take());
    port.close();
    return;
  }
  const out = Buffer.alloc(SIGNATURE_ROOM);
  const replies = new ReplyWriter();
  const sign = (id: number, key: Buffer, digest: Buffer): void => {
    try {
      session ??= lib.C_OpenSession(slot, CKF_SERIAL_SESSION);
      // Synchronous on purpose: this thread has nothing else to do, and the libuv pool's hand-offs cost more
      // than the signature (SoftHSM2 spends ~80 µs in C_SignInit + C_Sign).
      lib.C_SignInit(session, ECDSA, key);
      replies.add(id, SIGNED, lib.C_Sign(session, digest, out));
    } catch (error) {
      const code = codeOf(error);
      if (code === CKR_SESSION_HANDLE_INVALID || code === CKR_SESSION_CLOSED) session = undefined; // reopen next time
      replies.add(id, FAILED, errorBytes(error));
    }
  };
  const close = (): void => {
    try {
      if (session) lib.C_CloseSession(session);
    } catch {
      // The session died with the token or a C_CloseAllSessions: nothing left to close.
    }
    lib.close(); // dlclose: the opener's own load keeps the module in memory
    port.close();
  };
  port.on('message', (first: SignMessage | Close) => {
    // What is queued already is signed now and answered in one message: a wake-up of the main thread costs
    // about as much as a signature. A bounded batch, so that the first answers do not wait for long.
    let signed = 0;
    let message: SignMessage | Close | undefined = first;
    while (message !== undefined) {
      if (message === CLOSE) {
        if (signed > 0) port.postMessage(replies.take());
        close();
        return;
      }
      const bytes = asBuffer(message);
      // Each request is at least 6 bytes: the loop ends on any input.
      for (let at = 0; at + 6 <= bytes.length; signed++) {
        const id = bytes.readUInt32LE(at);
        const keyEnd = at + 5 + bytes[at + 4]!;
        const digestEnd = keyEnd + 1 + (bytes[keyEnd] ?? 0);
        sign(id, bytes.subarray(at + 5, keyEnd), bytes.subarray(keyEnd + 1, digestEnd));
        at = digestEnd;
      }
      message = signed < MAX_BATCH ? (receiveMessageOnPort(port)?.message as typeof message) : undefined;
    }
    port.postMessage(replies.take());
  });
  port.postMessage(new Uint8Array(0) satisfies SignMessage); // ready: the first message says the session is open
}

/**
 * Makes this thread yield to the process's event loop (issue 19). It signs flat out while callers wait, and on a
 * machine with few cores it competed for one with the main thread and with the GC helper threads a scavenge on
 * the main thread waits for: the event loop then stalled for milliseconds. Linux only: there a thread is a task
 * with a niceness of its own, and raising it needs no privilege; elsewhere `setPriority` would act on the whole
 * process, so nothing is done.
 */
function lowerPriority(): void {
  if (process.platform !== 'linux') return;
  try {
    // "PID/task/TID": this thread's kernel id, which worker_threads do not expose.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) setPriority(tid, NICENESS);
  } catch {
    // No /proc, or a seccomp policy refusing setpriority: the thread signs at the normal priority.
  }
}

/** Replies packed as the opener reads them (see SignMessage), in a buffer kept from one batch to the next. */
class ReplyWriter {
  #bytes = Buffer.alloc(MAX_BATCH * (REPLY_HEADER + SIGNATURE_ROOM));
  #length = 0;

  add(id: number, status: number, payload: Uint8Array): void {
    const end = this.#length + REPLY_HEADER + payload.length;
    if (end > this.#bytes.length) {
      const grown = Buffer.alloc(2 * end);
      this.#bytes.copy(grown, 0, 0, this.#length);
      this.#bytes = grown;
    }
    this.#bytes.writeUInt32LE(id, this.#length);
    this.#bytes[this.#length + 4] = status;
    this.#bytes.writeUInt16LE(payload.length, this.#length + 5);
    this.#bytes.set(payload, this.#length + REPLY_HEADER);
    this.#length = end;
  }

  /** The replies so far, copied to a buffer of their own (a view would send the whole one), and a fresh start. */
  take(): SignMessage {
    const message = new Uint8Array(this.#bytes.subarray(0, this.#length));
    this.#length = 0;
    return message;
  }
}

/** An error reply's payload: its message is a CKR_ name and the call, never key material or a PIN. */
function errorBytes(error: unknown): Buffer {
  const { message, code } = errorOf(error);
  // Well within the u16 length however it is escaped: a pkcs11js message is a few dozen characters.
  const bounded = message.slice(0, 1024);
  return Buffer.from(JSON.stringify(code === undefined ? { message: bounded } : { message: bounded, code }), 'utf8');
}

/** A pkcs11js error as a plain object: its message is a CKR_ name and the call, never key material or a PIN. */
function errorOf(error: unknown): { message: string; code?: number } {
  const message = error instanceof Error ? error.message : String(error);
  const code = codeOf(error);
  return code === undefined ? { message } : { message, code };
}

function codeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Typed arrays arrive as Uint8Array after structured cloning; pkcs11js wants Buffers (same memory, no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// Last: run() uses the classes above, which exist only once their declarations have run.
if (port && (workerData as Partial<SignWorkerInit> | undefined)?.role === ROLE) run(workerData as SignWorkerInit, port);
