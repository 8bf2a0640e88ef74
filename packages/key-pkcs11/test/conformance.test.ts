import { keyBackendConformance } from '@cosignkit/key-testkit';
import { afterAll, beforeAll } from 'vitest';
import { backend, type Pkcs11KeyManager } from '../src/index.js';
import { probeSession, proveValueUnreadable } from './probe.js';
import { startSoftHsm, type SoftHsm } from './softhsm.js';

let hsm: SoftHsm;

beforeAll(async () => {
  hsm = await startSoftHsm(['conformance']);
});
afterAll(async () => {
  await hsm?.stop();
});

keyBackendConformance({
  name: 'pkcs11 (SoftHSM2)',
  backend,
  storeRef: () => hsm.ref('conformance'),
  proveNonExtractable: async (manager, keyId) => {
    const session = probeSession(hsm.modulePath, (manager as Pkcs11KeyManager).tokenLabel);
    try {
      proveValueUnreadable(session, keyId);
    } finally {
      session.close();
    }
  },
});
