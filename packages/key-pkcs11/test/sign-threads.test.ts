// The signing threads on their own, on a real SoftHSM2 token: what the key manager relies on when a thread
// fails (a crash must reject what it owed with one clean line, never hang) or cannot start.
import { createHash, verify } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { type CosignkitError, parseKeyRef, rawToDer, silentLogger } from '@cosignkit/core';
import type * as Graphene from 'graphene-pk11';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, type Pkcs11KeyManager } from '../src/index.js';
import { SignThreads, type SpawnWorker } from '../src/sign-threads.js';
import { probeSession } from './probe.js';
import { TEST_PIN, startSoftHsm, type SoftHsm } from './softhsm.js';

const TOKEN = 'threads';
let hsm: SoftHsm;
let manager: Pkcs11KeyManager;
let probe: Graphene.Session;
let keyHandle: Buffer;
let slot: Buffer;
const digest = createHash('sha256').update('threads').digest();

beforeAll(async () => {
  hsm = await startSoftHsm([TOKEN]);
  // The manager logs the process in (the threads rely on that login) and makes the key.
  manager = (await backend.open(parseKeyRef(hsm.ref(TOKEN)), {
    options: { signThreads: 0 },
    secrets: async () => '',
    logger: silentLogger,
    env: {},
  })) as Pkcs11KeyManager;
  await manager.generateKeyPair({ label: 'k' });
  probe = probeSession(hsm.modulePath, TOKEN);
  const { ObjectClass } = (await import('./probe.js')).graphene;
  keyHandle = probe.find({ class: ObjectClass.PRIVATE_KEY, label: 'k' }).items(0).handle;
  slot = probe.slot.handle;
});
afterAll(async () => {
  probe?.close();
  await manager?.close();
  await hsm?.stop();
});

/** Threads whose Workers the test can reach. */
function threads(count = 1, at = slot): { threads: SignThreads; workers: Worker[]; given: WorkerOptions[] } {
  const workers: Worker[] = [];
  const given: WorkerOptions[] = [];
  const spawn: SpawnWorker = (file, options) => {
    const worker = new Worker(file, options);
    workers.push(worker);
    given.push(options);
    return worker;
  };
  return {
    // Every request to the threads once ready (the lone-caller rule has a test of its own).
    threads: new SignThreads({
      modulePath: hsm.modulePath,
      slot: at,
      threads: count,
      logger: silentLogger,
      spawn,
      loneOnCaller: false,
    }),
    workers,
    given,
  };
}

async function verifies(raw: Uint8Array): Promise<boolean> {
  const key = await manager.getPublicKey('k');
  return verify('sha256', Buffer.from('threads'), { key, dsaEncoding: 'der' }, rawToDer(raw));
}

/** What the caller would sign with while no thread is ready: counted, and refused (the tests want threads). */
let byCaller = 0;
const here = (): Promise<Buffer> => {
  byCaller++;
  return Promise.reject(new Error('signed by the caller'));
};

/** A signature from a ready thread (fails the test if it was left to the caller). */
function onThread(t: SignThreads, key: Buffer, signal?: AbortSignal): Promise<Uint8Array> {
  const before = byCaller;
  const signing = t.sign(key, digest, signal, here);
  if (byCaller !== before) throw new Error('no signing thread was ready');
  return signing;
}

/** The niceness of each thread (task) of this process, by its kernel id (Linux: /proc/self/task/<tid>/stat). */
function nicenessByTask(): Map<number, number> {
  const out = new Map<number, number>();
  for (const task of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
      // After "pid (comm) ": state is field 3, nice field 19 of the whole line.
      out.set(Number(task), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // The task ended meanwhile.
    }
  }
  return out;
}

/** True when sign() left the request to the caller. */
function leftToCaller(t: SignThreads): boolean {
  const before = byCaller;
  void t.sign(keyHandle, digest, undefined, here).catch(() => undefined);
  return byCaller !== before;
}

describe('SignThreads', () => {
  it('leave signatures one after another to the caller; start a thread when requests overlap, or at the 16th', async () => {
    const { threads: t, workers } = threads(1);
    let inFlight: () => void = () => undefined;
    const slow = (): Promise<Buffer> => {
      byCaller++;
      return new Promise((resolve) => (inFlight = () => resolve(Buffer.alloc(64))));
    };
    const first = t.sign(keyHandle, digest, undefined, slow); // a one-shot command never pays for a thread
    expect(workers).toHaveLength(0);
    expect(leftToCaller(t)).toBe(true); // overlaps the first: a thread starts, the caller still signs this one
    expect(workers).toHaveLength(1);
    inFlight();
    await first;
    await t.ready();
    expect(await verifies(await onThread(t, keyHandle))).toBe(true);
    expect(workers).toHaveLength(1);
    await t.close();

    const { threads: sequential, workers: sequentialWorkers } = threads(1);
    for (let i = 0; i < 15; i++) {
      expect(leftToCaller(sequential)).toBe(true);
      await new Promise((resolve) => setImmediate(resolve)); // settled: the next one overlaps nothing
    }
    expect(sequentialWorkers).toHaveLength(0);
    expect(leftToCaller(sequential)).toBe(true);
    expect(sequentialWorkers).toHaveLength(1);
    await sequential.close();
  });

  it('leave requests that come one at a time to the caller, even with a thread ready; overlapping ones not', async () => {
    const t = new SignThreads({ modulePath: hsm.modulePath, slot, threads: 1, logger: silentLogger });
    await t.ready();
    await new Promise((resolve) => setTimeout(resolve, 150)); // no overlap for longer than 100 ms
    let release: () => void = () => undefined;
    const lone = t.sign(keyHandle, digest, undefined, () => {
      byCaller++;
      return new Promise<Buffer>((resolve) => (release = () => resolve(Buffer.alloc(64))));
    });
    const before = byCaller;
    expect(before).toBeGreaterThan(0);
    const overlapping = t.sign(keyHandle, digest, undefined, here); // finds the lone one in flight
    expect(byCaller).toBe(before);
    expect(await verifies(await overlapping)).toBe(true);
    release();
    await lone;
    await t.close();
  });

  it('sign on threads that share the process login, with no PIN of their own, and close cleanly', async () => {
    process.env.COSIGN_PKCS11_PIN = TEST_PIN; // were it inherited, the check below would see it
    const { threads: t, workers, given } = threads(2);
    await t.ready();
    const first = await Promise.all(Array.from({ length: 20 }, () => onThread(t, keyHandle)));
    // Every ready thread was busy: a second one started meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const more = await Promise.all(Array.from({ length: 20 }, () => t.sign(keyHandle, digest, undefined, here)));
    for (const raw of [...first, ...more]) expect(await verifies(raw)).toBe(true);
    expect(workers.length).toBeGreaterThanOrEqual(1);
    expect(workers.length).toBeLessThanOrEqual(2);
    // No PIN went to a thread: not in its workerData, argv or environment.
    delete process.env.COSIGN_PKCS11_PIN;
    for (const options of given) {
      expect(JSON.stringify({ ...options, workerData: { ...options.workerData, slot: undefined } })).not.toContain(
        TEST_PIN,
      );
      expect(options.env).toEqual({});
      expect(options.argv).toBeUndefined();
    }
    await t.close();
    expect(workers.every((w) => w.threadId === -1)).toBe(true); // exited
    await expect(t.sign(keyHandle, digest, undefined, here)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });

  it.runIf(process.platform === 'linux')(
    'run each signing thread at niceness 10 (Linux), leaving the rest of the process as it was',
    async () => {
      const before = nicenessByTask();
      const { threads: t } = threads(1);
      await t.ready();
      const after = nicenessByTask();
      const started = [...after].filter(([task]) => !before.has(task));
      // The signing thread is the one new task at niceness 10; the main thread keeps its own.
      expect(started.filter(([, nice]) => nice === 10)).toHaveLength(1);
      expect(after.get(process.pid)).toBe(before.get(process.pid));
      expect(await verifies(await onThread(t, keyHandle))).toBe(true);
      await t.close();
    },
  );

  it('a thread that dies mid-flight rejects what it owed with one line; a fresh thread takes over', async () => {
    const { threads: t, workers } = threads(1);
    await t.ready();
    const inFlight = Array.from({ length: 8 }, () => onThread(t, keyHandle));
    await workers[0]!.terminate();
    const settled = await Promise.allSettled(inFlight);
    const failures = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    // Some may have been answered before the thread died; every other one must fail cleanly.
    for (const f of failures) {
      expect((f.reason as CosignkitError).code).toBe('BACKEND_FAILURE');
      expect((f.reason as Error).message).toMatch(
        /^the PKCS#11 signing thread stopped unexpectedly \(exit code \d+\)$/,
      );
    }
    expect(leftToCaller(t)).toBe(true); // the caller signs while the new thread starts
    await t.ready();
    expect(await verifies(await onThread(t, keyHandle))).toBe(true);
    expect(workers).toHaveLength(2);
    await t.close();
  });

  it('a thread that cannot open a session reports the mapped code once, and the callers sign on their own', async () => {
    const bogus = Buffer.alloc(8);
    bogus.writeBigUInt64LE(987_654n);
    const { threads: t, workers } = threads(1, bogus);
    const error = (await t.ready().catch((e: unknown) => e)) as CosignkitError;
    expect(error.code).toBe('TOKEN_NOT_FOUND'); // CKR_SLOT_ID_INVALID
    expect(error.message).toMatch(/^cannot start a PKCS#11 signing thread: CKR_SLOT_ID_INVALID/);
    expect(error.message).not.toMatch(/\n/);
    for (let i = 0; i < 20; i++) expect(leftToCaller(t)).toBe(true);
    expect(workers).toHaveLength(1); // not started again and again
    await t.close();
  });

  it('a PKCS#11 error from the thread keeps its CK_RV (a dead key handle is KEY_NOT_FOUND to the manager)', async () => {
    const { threads: t } = threads(1);
    await t.ready();
    const dead = Buffer.alloc(8);
    dead.writeBigUInt64LE(0x7fff_fff0n);
    const error = (await onThread(t, dead).catch((e: unknown) => e)) as Error & { code: unknown };
    expect(error.code).toBe(0x82); // CKR_OBJECT_HANDLE_INVALID: the manager looks the key up again
    await t.close();
  });

  it('an abort while the request is on the thread rejects at once with ABORTED', async () => {
    const { threads: t } = threads(1);
    await t.ready();
    const controller = new AbortController();
    const ahead = Array.from({ length: 50 }, () => onThread(t, keyHandle));
    const mine = onThread(t, keyHandle, controller.signal);
    controller.abort();
    await expect(mine).rejects.toMatchObject({ code: 'ABORTED' });
    await Promise.all(ahead);
    await t.close();
  });

  it("hand each reply's r‖s to the caller's answer in place; an answer that throws rejects that request alone", async () => {
    const { threads: t } = threads(1);
    await t.ready();
    const seen: number[] = [];
    const der = (bytes: Uint8Array, start: number, end: number): Uint8Array => {
      seen.push(end - start);
      return rawToDer(bytes.slice(start, end));
    };
    const refused = t.sign(keyHandle, digest, undefined, here, () => {
      throw new Error('not this one');
    });
    const signed = await Promise.all(Array.from({ length: 8 }, () => t.sign(keyHandle, digest, undefined, here, der)));
    await expect(refused).rejects.toThrow('not this one');
    expect(seen).toEqual(Array(8).fill(64)); // P-256: r‖s is 64 bytes
    const key = await manager.getPublicKey('k');
    for (const sig of signed)
      expect(verify('sha256', Buffer.from('threads'), { key, dsaEncoding: 'der' }, sig)).toBe(true);
    await t.close();
  });

  it('close() lets the requests already posted finish, and ends a thread still starting at once', async () => {
    const { threads: t, workers } = threads(1);
    await t.ready();
    const inFlight = Array.from({ length: 16 }, () => onThread(t, keyHandle));
    await t.close();
    expect(await Promise.all(inFlight)).toHaveLength(16);
    expect(workers[0]!.threadId).toBe(-1);

    const { threads: starting, workers: startingWorkers } = threads(1);
    void starting.sign(keyHandle, digest, undefined, () => new Promise(() => undefined)); // in flight for good
    leftToCaller(starting); // overlaps: starts a thread
    await starting.close(); // does not wait for the thread to get ready
    expect(startingWorkers).toHaveLength(1);
    expect(startingWorkers[0]!.threadId).toBe(-1);
  });
});
