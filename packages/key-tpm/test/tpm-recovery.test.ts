import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CosignkitError, parseKeyRef } from '@cosignkit/core';
import { backend, type TpmKeyManager } from '../src/index.js';
import { FapiContext } from '../src/fapi/fapi-context.js';
import { loadFapi } from '../src/fapi/fapi-library.js';
import { prepareStore } from '../src/fapi/fapi-store.js';
import { testContext } from './context.js';
import { proveTpmNonExtractable } from './non-extractable-probe.js';
import { startSwtpm, type Swtpm } from './swtpm-harness.js';

const digest = createHash('sha256').update('recovery').digest();

describe('tpm backend: non-extractable probe and stale TPM handles', () => {
  let tpm: Swtpm;
  let home: string;
  let raw: FapiContext;

  beforeAll(async () => {
    tpm = await startSwtpm();
    home = await mkdtemp(join(tmpdir(), 'cosignkit-tpm-home-'));
    const manager = await backend.open(parseKeyRef(`tpm:?tcti=${tpm.tcti}`), testContext(home));
    await manager.generateKeyPair({ label: 'k' });
    await manager.close();
    // A second FAPI context on the same keystore, for what cosignkit itself never does.
    const store = await prepareStore(home, tpm.tcti);
    raw = await FapiContext.initialize(await loadFapi(), store.configs.p256, tpm.tcti);
  });

  afterAll(async () => {
    await raw?.finalize();
    await tpm?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('the probe rejects a key FAPI made duplicable ("exportable"), so it can fail', async () => {
    await raw.createKey('/P_ECCP256SHA256/HS/SRK/dup', 'sign,noDa,exportable', 'test');
    const manager = await backend.open(parseKeyRef(`tpm:?tcti=${tpm.tcti}`), testContext(home));
    try {
      await expect(proveTpmNonExtractable(manager, 'dup')).rejects.toThrow(/can leave the TPM: fixedTPM, fixedParent/);
      await expect(proveTpmNonExtractable(manager, 'k')).resolves.toBeUndefined();
    } finally {
      await manager.close();
    }
  });

  it('a TPM full of leftover objects (0x902) is reported with the fix, and flushed when the options allow it', async () => {
    // A refused duplication makes FAPI leave its loaded objects behind: repeat until the TPM's object slots are full.
    await raw.createKey('/P_ECCP256SHA256/HS/SRK/parent', 'decrypt,restricted,noDa', 'test');
    await raw.importObject(
      '/ext/parent',
      JSON.stringify(await raw.exportKey('/P_ECCP256SHA256/HS/SRK/parent', 'test')),
      'test',
    );
    let rc: unknown;
    for (let i = 0; i < 8 && rc !== 0x902; i++) {
      rc = await raw.exportKey('/P_ECCP256SHA256/HS/SRK/k', 'test', '/ext/parent').then(
        () => 0,
        (error: CosignkitError) => error.details.rc,
      );
    }
    expect(rc).toBe(0x902);

    const plain = await backend.open(parseKeyRef(`tpm:k?tcti=${tpm.tcti}`), testContext(home));
    try {
      await expect(plain.signDigest('k', digest)).rejects.toMatchObject({
        code: 'BACKEND_UNAVAILABLE',
        message: expect.stringMatching(
          /out of object memory \(0x902\).*fix: tpm2_flushcontext -T 'swtpm:host=127\.0\.0\.1,port=\d+' --transient-object/,
        ),
      });
    } finally {
      await plain.close();
    }

    const recovering = (await backend.open(
      parseKeyRef(`tpm:k?tcti=${tpm.tcti}`),
      testContext(home, { flushStaleHandles: true }),
    )) as TpmKeyManager;
    try {
      const signature = await recovering.signDigest('k', digest);
      expect(await recovering.verifySignature('k', signature, Buffer.from('recovery'))).toBe(true);
    } finally {
      await recovering.close();
    }
  });
});
