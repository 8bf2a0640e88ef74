// The body of a signing thread (see sign-threads.ts). It runs in a worker_thread of the process that opened
// the store, so it shares that process's PKCS#11 library state: the module is initialized already (C_Initialize
// answers CKR_CRYPTOKI_ALREADY_INITIALIZED) and the token is logged in already (login belongs to the
// application, so a session opened here is a logged-in one). No PIN ever reaches this thread.
//
// It imports nothing from this package: it is loaded on its own (dist/sign-worker.js, or the .ts source under
// the tests), with the path of pkcs11js handed over by the opener.
import { createRequire } from 'node:module';
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

/** A request: sign `digest` with the private key object `key` (a CK_OBJECT_HANDLE, 8 bytes). */
export interface SignRequest {
  id: number;
  key: Uint8Array;
  digest: Uint8Array;
}

/**
 * The answer to one request, or to the start-up (`id` -1) when the thread cannot sign at all. Requests and
 * answers travel in arrays: whatever piled up meanwhile goes in one message.
 */
export type SignReply =
  | { id: number; signature: Uint8Array }
  | { id: number; error: { message: string; code?: number } };

/** Posted by the opener to end the thread: close the session, unload, exit. */
type Close = 'close';
const CLOSE: Close = 'close';
/** The id of the reply that reports a start-up failure. */
const STARTUP = -1;
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
const CKR_CRYPTOKI_ALREADY_INITIALIZED = 0x191;
const CKR_SESSION_CLOSED = 0xb0;
const CKR_SESSION_HANDLE_INVALID = 0xb3;
/** Signatures answered in one message at most. */
const MAX_BATCH = 32;
/** Room for the largest raw r‖s this backend signs (P-384: 96 bytes) and then some. */
const SIGNATURE_ROOM = 256;

const port = parentPort;
if (port && (workerData as Partial<SignWorkerInit> | undefined)?.role === ROLE) run(workerData as SignWorkerInit, port);

function run(init: SignWorkerInit, port: NonNullable<typeof parentPort>): void {
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
    port.postMessage([{ id: STARTUP, error: errorOf(error) }] satisfies SignReply[]);
    port.close();
    return;
  }
  const out = Buffer.alloc(SIGNATURE_ROOM);
  const sign = (request: SignRequest): SignReply => {
    try {
      session ??= lib.C_OpenSession(slot, CKF_SERIAL_SESSION);
      // Synchronous on purpose: this thread has nothing else to do, and the libuv pool's hand-offs cost more
      // than the signature (SoftHSM2 spends ~80 µs in C_SignInit + C_Sign).
      lib.C_SignInit(session, { mechanism: CKM_ECDSA }, asBuffer(request.key));
      return { id: request.id, signature: new Uint8Array(lib.C_Sign(session, asBuffer(request.digest), out)) };
    } catch (error) {
      const code = codeOf(error);
      if (code === CKR_SESSION_HANDLE_INVALID || code === CKR_SESSION_CLOSED) session = undefined; // reopen next time
      return { id: request.id, error: errorOf(error) };
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
  port.on('message', (first: SignRequest[] | Close) => {
    // What is queued already is signed now and answered in one message: a wake-up of the main thread costs
    // about as much as a signature. A bounded batch, so that the first answers do not wait for long.
    const replies: SignReply[] = [];
    let message: SignRequest[] | Close | undefined = first;
    while (message !== undefined) {
      if (message === CLOSE) {
        if (replies.length > 0) port.postMessage(replies);
        close();
        return;
      }
      for (const request of message) replies.push(sign(request));
      message = replies.length < MAX_BATCH ? (receiveMessageOnPort(port)?.message as typeof message) : undefined;
    }
    port.postMessage(replies);
  });
  port.postMessage([] satisfies SignReply[]); // ready: the first message says the session is open
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
