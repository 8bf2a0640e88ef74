import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CosignkitError } from '@cosignkit/core';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { parseTrustedRoot } from './parse-trusted-root.js';
import { STAGING_TRUSTED_ROOT_JSON } from './roots/staging-trusted-root.js';
import type { LoadedTrustedRoot, SigstoreInstance } from './trusted-root-source.js';

export const PUBLIC_GOOD_TUF_URL = 'https://tuf-repo-cdn.sigstore.dev';
export const STAGING_TUF_URL = 'https://tuf-repo-cdn.sigstage.dev';

let publicGood: TrustedRoot | undefined;
let staging: TrustedRoot | undefined;

/**
 * The root shipped with this package. Public good: the `trusted_root.json` target embedded in
 * @sigstore/tuf's `seeds.json` (the TUF snapshot npm itself trusts), read at load time so it follows that
 * package's updates without a rebuild; read as a file rather than imported, to keep @sigstore/tuf's network
 * code out of offline runs. Staging: the pinned root in ./roots.
 */
export function embeddedTrustedRoot(instance: SigstoreInstance): LoadedTrustedRoot {
  if (instance === 'staging') {
    staging ??= parseTrustedRoot(STAGING_TRUSTED_ROOT_JSON, 'embedded staging root').root;
    return { root: staging, origin: { kind: 'embedded', instance, from: 'pinned sigstage.dev trusted_root.json' } };
  }
  publicGood ??= readSeedsRoot();
  return { root: publicGood, origin: { kind: 'embedded', instance, from: '@sigstore/tuf seeds.json' } };
}

function readSeedsRoot(): TrustedRoot {
  let seeds: Record<string, { targets?: Record<string, string> }>;
  try {
    const path = createRequire(import.meta.url).resolve('@sigstore/tuf/seeds.json');
    seeds = JSON.parse(readFileSync(path, 'utf8')) as typeof seeds;
  } catch (error) {
    throw new CosignkitError('INTERNAL', `cannot read @sigstore/tuf's seeds.json: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const encoded = seeds[PUBLIC_GOOD_TUF_URL]?.targets?.['trusted_root.json'];
  if (encoded === undefined)
    throw new CosignkitError(
      'INTERNAL',
      `@sigstore/tuf's seeds.json has no trusted_root.json for ${PUBLIC_GOOD_TUF_URL}`,
    );
  return parseTrustedRoot(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')), 'embedded public-good root')
    .root;
}
