import { createRequire } from 'node:module';
import type * as Graphene from 'graphene-pk11';
import { CosignkitError } from '@cosignkit/core';

export type GrapheneModule = typeof Graphene;

let loaded: GrapheneModule | undefined;

/**
 * graphene-pk11 pulls in the pkcs11js native addon: load it on first use, so importing this package (for its
 * types, or to register the backend) never fails on a machine without a working build.
 */
export function graphene(): GrapheneModule {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('graphene-pk11') as GrapheneModule;
  } catch (error) {
    throw new CosignkitError(
      'BACKEND_UNAVAILABLE',
      `cannot load graphene-pk11 (and its pkcs11js native addon): ${(error as Error).message}; ` +
        'reinstall @cosignkit/key-pkcs11 so that pkcs11js builds',
      { cause: error },
    );
  }
  return loaded;
}
