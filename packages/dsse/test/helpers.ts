import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KeyAlgorithm } from '@cosignkit/core';
import { FileKeyManager } from '@cosignkit/key-file';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const REPO_ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

export async function tempDir(prefix = 'cosignkit-dsse-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Real cosign key files (the file backend) for each algorithm, in one store. */
export async function fileKeys(
  dir: string,
  algorithms: readonly KeyAlgorithm[] = ['ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'ed25519'],
) {
  const manager = new FileKeyManager(dir, { secrets: async () => 'test-password' });
  const keys: Record<string, { keyId: string; fingerprint: string; pem: string }> = {};
  for (const algorithm of algorithms) {
    const info = await manager.generateKeyPair({ algorithm, label: algorithm });
    keys[algorithm] = { keyId: info.id, fingerprint: info.fingerprint, pem: info.publicKeyPem };
  }
  return { manager, keys };
}

/** The real cosign CLI: COSIGN_PATH, else the project's .tools copy, else PATH. */
export function cosignPath(): string {
  if (process.env.COSIGN_PATH) return process.env.COSIGN_PATH;
  const local = join(REPO_ROOT, '.tools/cosign/usr/bin/cosign');
  return existsSync(local) ? local : 'cosign';
}
