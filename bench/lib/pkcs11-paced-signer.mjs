// The floor of issue 19's event-loop row: the signing work alone, with no part on the main thread. A worker
// thread of the bench's process signs with the bench's key on a session of its own (pkcs11js, C_SignInit +
// C_Sign, synchronously, as the backend's signing thread does), at the backend's niceness, paced at the rate the
// 4 callers reached, while the main thread only waits. Whatever the event loop then misses is what the host does
// to a loop beside that much signing: no design that signs on this machine, on any thread, does less.
//
// Messages: the opener posts { seconds, perSecond } and gets { signed } back once the slice is over; 'close'
// ends the thread.
import { readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

/** The backend's signing-thread niceness (packages/key-pkcs11/src/sign-worker.ts). */
const NICENESS = 10;
const CKM_ECDSA = 0x1041;
const CKF_OS_LOCKING_OK = 2;
const CKF_SERIAL_SESSION = 4;
const CKR_CRYPTOKI_ALREADY_INITIALIZED = 0x191;
/** How long the thread sleeps between paced batches: about the grain at which the signing thread waits. */
const NAP_MS = 0.1;

const { pkcs11js, modulePath, slot, key, digest } = workerData;
try {
  // "PID/task/TID": this thread's kernel id (Linux), as the signing thread lowers its own priority.
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), NICENESS);
} catch {
  // Not Linux: the thread computes at the normal priority, as the signing thread would.
}
const { PKCS11 } = createRequire(import.meta.url)(pkcs11js);
const lib = new PKCS11();
lib.load(modulePath);
try {
  lib.C_Initialize({ flags: CKF_OS_LOCKING_OK });
} catch (error) {
  if (error.code !== CKR_CRYPTOKI_ALREADY_INITIALIZED) throw error;
}
const session = lib.C_OpenSession(Buffer.from(slot), CKF_SERIAL_SESSION);
const keyHandle = Buffer.from(key);
const data = Buffer.from(digest);
const out = Buffer.alloc(256);
const nap = new Int32Array(new SharedArrayBuffer(4));

parentPort.on('message', (message) => {
  if (message === 'close') {
    lib.C_CloseSession(session);
    lib.close();
    parentPort.close();
    return;
  }
  const { seconds, perSecond } = message;
  const start = performance.now();
  const end = start + seconds * 1000;
  let signed = 0;
  for (let now = start; now < end; now = performance.now()) {
    // The signatures due by now, then a nap: the 4 callers' rate, spread over the slice as they spread it.
    const due = Math.min(((now - start) * perSecond) / 1000, (seconds * perSecond) | 0);
    for (; signed < due; signed++) {
      lib.C_SignInit(session, { mechanism: CKM_ECDSA }, keyHandle);
      lib.C_Sign(session, data, out);
    }
    Atomics.wait(nap, 0, 0, NAP_MS);
  }
  parentPort.postMessage({ signed });
});
parentPort.postMessage('ready');
