import { randomBytes } from 'node:crypto';
import { keyBackendConformance } from '@cosignkit/key-testkit';
import { backend } from '../src/index.js';
import { requirePrivateSecretService } from './secret-service.js';

requirePrivateSecretService();

// A fresh service per run: the kit starts from an empty store.
const service = `cosignkit-conformance-${randomBytes(4).toString('hex')}`;

keyBackendConformance({
  name: 'keyring',
  backend,
  storeRef: () => `keyring:${service}/`,
});
