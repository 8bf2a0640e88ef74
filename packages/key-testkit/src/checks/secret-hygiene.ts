import { randomBytes } from 'node:crypto';
import type { Subject } from '../subject.js';
import type { SecretWatch } from '../secret-watch.js';

/**
 * No password or PIN the backend was given shows up in its logs, its error messages or the KeyInfo it
 * returns. Provokes one more error first, so even a backend that never failed during the run is looked at.
 */
export async function checkSecretHygiene(subject: Subject, watch: SecretWatch): Promise<void> {
  const manager = watch.manager(subject.manager);
  await manager.getPublicKey(`testkit-missing-${randomBytes(4).toString('hex')}`).catch(() => undefined);
  await manager.listKeys().catch(() => undefined);
  watch.assertClean();
}
