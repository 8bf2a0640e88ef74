import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryClient } from '@cosignkit/oci';
import { seedImage } from '../../oci/test/harness/seed-image.js';
import { cosign, PASSWORD } from './helpers.js';

export { startRegistry } from '../../oci/test/harness/docker-registry.js';
export type { RunningRegistry } from '../../oci/test/harness/docker-registry.js';

/** A temp dir with a cosign key pair (made by the real cosign) and an empty trusted root. */
export async function ociWorkspace(): Promise<{ dir: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'cosignkit-oci-'));
  const made = await cosign(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: PASSWORD } });
  if (made.code !== 0) throw new Error(`cosign generate-key-pair failed: ${made.stderr}`);
  writeFileSync(
    join(dir, 'trusted_root.json'),
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [],
      certificateAuthorities: [],
      ctlogs: [],
      timestampAuthorities: [],
    }),
  );
  writeFileSync(
    join(dir, 'predicate.json'),
    '{"buildType":"https://example.com/build/v1","builder":{"id":"https://example.com/builder"}}',
  );
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const anonymous = new RegistryClient({ credentials: async () => undefined });

/** Pushes a fresh random image at `host/repository:tag`; returns its digest. */
export function seed(
  host: string,
  repository: string,
  tag: string,
  client: RegistryClient = anonymous,
): Promise<string> {
  return seedImage(client, host, repository, tag);
}

export { RegistryClient };
