import { KeyObject } from 'node:crypto';
import { afterAll, expect } from 'vitest';
import { parseKeyRef, type KeyManager } from '@cosignkit/core';
import { keyBackendConformance } from '../src/index.js';
import { type FakeMemoryKeyManager, fakeMemoryBackend } from '../src/fakes/fake-memory-backend.js';

// The kit against its reference fake, in three capability shapes: everything declared; a non-extractable
// store with fewer algorithms (exercises the probe and the refusal of undeclared algorithms); a read-only
// store seeded beforehand (exercises the generate/delete refusals and the skips).

keyBackendConformance({
  name: 'fake memory (all capabilities)',
  backend: fakeMemoryBackend(),
  storeRef: () => 'memory:full',
  otherStoreRef: () => 'memory:other/key',
});

/** The fake's probe: nothing reachable from the manager's public surface is private key material. */
async function proveNothingReachable(manager: KeyManager, keyId: string): Promise<void> {
  const seen = new Set<unknown>();
  const walk = (value: unknown): void => {
    if (value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    if (value instanceof KeyObject && value.type === 'private') throw new Error(`private key of ${keyId} is reachable`);
    for (const key of Reflect.ownKeys(value)) walk((value as Record<PropertyKey, unknown>)[key]);
  };
  walk(manager);
  walk(await manager.listKeys());
  if (JSON.stringify(await manager.listKeys()).includes('PRIVATE KEY')) throw new Error('listKeys leaks a private key');
}

keyBackendConformance({
  name: 'fake memory (non-extractable, P-256 and Ed25519 only)',
  backend: fakeMemoryBackend({ extractable: false, algorithms: ['ecdsa-p256-sha256', 'ed25519'] }),
  storeRef: () => 'memory:hardware-like',
  algorithms: ['ecdsa-p256-sha256'],
  proveNonExtractable: proveNothingReachable,
});

const readOnly = fakeMemoryBackend({ generate: false, delete: false, algorithms: ['ecdsa-p384-sha384', 'ed25519'] });
let tornDown = false;
keyBackendConformance({
  name: 'fake memory (read-only, seeded)',
  backend: readOnly,
  storeRef: async () => {
    const manager = (await readOnly.open(parseKeyRef('memory:seeded'), {} as never)) as FakeMemoryKeyManager;
    if ((await manager.listKeys()).length === 0) {
      manager.add('ecdsa-p384-sha384', 'seed-p384');
      manager.add('ed25519', 'seed-ed25519');
    }
    return 'memory:seeded';
  },
  teardown: async () => {
    tornDown = true;
  },
});

// The kit's afterAll lives inside its describe, which ends before this file-level hook runs.
afterAll(() => {
  expect(tornDown).toBe(true);
});
