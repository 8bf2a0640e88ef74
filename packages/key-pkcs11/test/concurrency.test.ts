import { createHash, randomBytes, verify } from 'node:crypto';
import { type CosignkitError, parseKeyRef, silentLogger, type BackendContext } from '@cosignkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, type Pkcs11KeyManager } from '../src/index.js';
import type * as Graphene from 'graphene-pk11';
import { graphene } from './probe.js';
import { startSoftHsm, type SoftHsm } from './softhsm.js';

const TOKEN = 'concurrency';
let hsm: SoftHsm;

// signThreads 0: sign on the main thread, C_Sign on the libuv pool, each signature on a pooled session.
const open = (sessions: number, signThreads?: number) => {
  const options = signThreads === undefined ? { sessions } : { sessions, signThreads };
  const context: BackendContext = { options, secrets: async () => '', logger: silentLogger, env: {} };
  return backend.open(parseKeyRef(hsm.ref(TOKEN)), context) as Promise<Pkcs11KeyManager>;
};

// SoftHSM reports no session count (CK_UNAVAILABLE_INFORMATION): count C_OpenSession/C_CloseSession calls
// by watching graphene, the library the backend calls.
let openSessions = 0;
let peakSessions = 0;
const sessionCount = (): number => openSessions;
const slotOpen = graphene.Slot.prototype.open;
graphene.Slot.prototype.open = function (this: Graphene.Slot, ...args: Parameters<Graphene.Slot['open']>) {
  const session = slotOpen.apply(this, args);
  peakSessions = Math.max(peakSessions, ++openSessions);
  return session;
};
const sessionClose = graphene.Session.prototype.close;
graphene.Session.prototype.close = function (this: Graphene.Session) {
  sessionClose.call(this);
  openSessions--;
};

// Signatures made on this thread (C_SignInit through graphene): the signing threads use pkcs11js directly.
let mainThreadSigns = 0;
const createSign = graphene.Session.prototype.createSign;
graphene.Session.prototype.createSign = function (
  this: Graphene.Session,
  ...args: Parameters<Graphene.Session['createSign']>
) {
  mainThreadSigns++;
  return createSign.apply(this, args);
};

beforeAll(async () => {
  hsm = await startSoftHsm([TOKEN]);
});
afterAll(async () => {
  await hsm?.stop();
});

describe('the session pool (signing on the main thread)', () => {
  let manager: Pkcs11KeyManager;
  beforeAll(async () => {
    manager = await open(3, 0);
    await manager.generateKeyPair({ label: 'c-p256' });
    await manager.generateKeyPair({ label: 'c-p384', algorithm: 'ecdsa-p384-sha384' });
  });
  afterAll(async () => {
    await manager?.close();
  });

  it('signs 48 requests at once on two keys with 3 sessions, each over its own digest', async () => {
    const jobs = Array.from({ length: 48 }, (_, i) => {
      const id = i % 2 ? 'c-p384' : 'c-p256';
      const message = randomBytes(20);
      const hash = id === 'c-p384' ? 'sha384' : 'sha256';
      return { id, hash, message, digest: createHash(hash).update(message).digest() };
    });
    peakSessions = sessionCount();
    const signatures = await Promise.all(jobs.map((j) => manager.signDigest(j.id, j.digest)));
    const keys = { 'c-p256': await manager.getPublicKey('c-p256'), 'c-p384': await manager.getPublicKey('c-p384') };
    jobs.forEach((j, i) => {
      expect(
        verify(j.hash, j.message, { key: keys[j.id as keyof typeof keys], dsaEncoding: 'der' }, signatures[i]!),
      ).toBe(true);
    });
    expect(peakSessions).toBe(3); // all three used, never a fourth
    expect(sessionCount()).toBe(3);
  });

  it('an aborted caller waiting for a session gets ABORTED; the others finish', async () => {
    const digest = createHash('sha256').update('abort').digest();
    const controller = new AbortController();
    const busy = Array.from({ length: 6 }, () => manager.signDigest('c-p256', digest));
    const waiting = manager.signDigest('c-p256', digest, { signal: controller.signal });
    controller.abort();
    const settled = await Promise.allSettled([...busy, waiting]);
    const last = settled.at(-1)!;
    // It may have got a session before the abort; if not, it must say ABORTED.
    if (last.status === 'rejected') expect((last.reason as CosignkitError).code).toBe('ABORTED');
    expect(settled.slice(0, -1).every((r) => r.status === 'fulfilled')).toBe(true);
    await expect(manager.signDigest('c-p256', digest, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });

  it('the event loop keeps running while 32 signatures are in flight', async () => {
    const digest = createHash('sha256').update('loop').digest();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    await Promise.all(Array.from({ length: 32 }, () => manager.signDigest('c-p256', digest)));
    clearInterval(ticker);
    // Signing through C_Sign on the libuv pool: a sign loop fully on the main thread would let no timer fire.
    expect(ticks).toBeGreaterThan(0);
  });
});

describe('signing threads', () => {
  let manager: Pkcs11KeyManager;
  beforeAll(async () => {
    manager = await open(3, 2);
    await manager.generateKeyPair({ label: 't-p256' });
    await manager.generateKeyPair({ label: 't-p384', algorithm: 'ecdsa-p384-sha384' });
  });
  afterAll(async () => {
    await manager?.close();
  });

  it('take over from the main thread once ready: 48 requests at once on two keys, none signed here', async () => {
    const keys = { 't-p256': await manager.getPublicKey('t-p256'), 't-p384': await manager.getPublicKey('t-p384') };
    const jobs = Array.from({ length: 48 }, (_, i) => {
      const id = i % 2 ? 't-p384' : 't-p256';
      const message = randomBytes(20);
      const hash = id === 't-p384' ? 'sha384' : 'sha256';
      return { id, hash, message, digest: createHash(hash).update(message).digest() };
    });
    // The first signatures are made here while a thread starts; wait for a round made wholly on threads.
    const deadline = performance.now() + 30_000;
    for (let round = 0; performance.now() < deadline && (round === 0 || mainThreadSigns > 0); round++) {
      mainThreadSigns = 0;
      await Promise.all(jobs.slice(0, 4).map((j) => manager.signDigest(j.id, j.digest)));
    }
    mainThreadSigns = 0;
    const signatures = await Promise.all(jobs.map((j) => manager.signDigest(j.id, j.digest)));
    jobs.forEach((j, i) => {
      expect(
        verify(j.hash, j.message, { key: keys[j.id as keyof typeof keys], dsaEncoding: 'der' }, signatures[i]!),
      ).toBe(true);
    });
    expect(mainThreadSigns).toBe(0); // C_SignInit never ran on this thread (the requests overlap)
  });

  it('keep the event loop free: a 1 ms timer fires about as often while 400 signatures are in flight as idle', async () => {
    const digest = createHash('sha256').update('loop').digest();
    const tickRate = async (during: () => Promise<unknown>): Promise<number> => {
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 1);
      const started = performance.now();
      await during();
      clearInterval(ticker);
      return ticks / (performance.now() - started);
    };
    // Interleaved, best of three each: other test files share the machine's two cores.
    let idle = 0;
    let signing = 0;
    for (let round = 0; round < 3; round++) {
      idle = Math.max(idle, await tickRate(() => new Promise((resolve) => setTimeout(resolve, 200))));
      signing = Math.max(
        signing,
        await tickRate(() => Promise.all(Array.from({ length: 400 }, () => manager.signDigest('t-p256', digest)))),
      );
    }
    // A loop that signed on this thread would fire no timer at all; a third of the idle rate leaves room for a
    // loaded machine (the bench measures the longest block).
    expect(signing).toBeGreaterThan(idle / 3);
  });

  it('an aborted caller gets ABORTED; the others finish', async () => {
    const digest = createHash('sha256').update('abort').digest();
    const controller = new AbortController();
    const busy = Array.from({ length: 16 }, () => manager.signDigest('t-p256', digest));
    const aborted = manager.signDigest('t-p256', digest, { signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
    const settled = await Promise.allSettled(busy);
    expect(settled.every((r) => r.status === 'fulfilled')).toBe(true);
  });
});

describe('many managers on one token', () => {
  it('share one login; closing them all, even mid-flight, logs out and frees every session', async () => {
    const managers = await Promise.all([open(2), open(2), open(2), open(2)]);
    const info = await managers[0]!.generateKeyPair({ label: 'shared' });
    const digest = createHash('sha256').update('shared').digest();
    const inFlight = managers.flatMap((m) => Array.from({ length: 8 }, () => m.signDigest(info.id, digest)));
    await Promise.all(managers.map((m) => m.close()));
    const signatures = await Promise.all(inFlight);
    expect(signatures).toHaveLength(32);
    expect(sessionCount()).toBe(0);
    const again = await open(1);
    await again.deleteKey('shared');
    await again.close();
  });

  it('an open racing the last close gets a fresh login, not one the closing logout kills', async () => {
    const first = await open(2);
    const info = await first.generateKeyPair({ label: 'race' });
    const digest = createHash('sha256').update('race').digest();
    await first.signDigest(info.id, digest);
    const [, second] = await Promise.all([first.close(), open(2)]);
    const signature = await second.signDigest(info.id, digest);
    expect(signature.length).toBeGreaterThan(8);
    await second.deleteKey(info.id);
    await second.close();
  });
});
