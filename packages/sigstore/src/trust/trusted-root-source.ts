import type { TrustedRoot } from '@sigstore/protobuf-specs';

/** Which Sigstore instance a root belongs to (chosen with --staging; a file's root is whatever it says). */
export type SigstoreInstance = 'public-good' | 'staging';

/** Where the trusted root in use came from: reported to the user, since trust depends on it. */
export type TrustedRootOrigin =
  | { kind: 'file'; path: string; format: 'trusted-root' | 'client-trust-config' }
  | { kind: 'tuf'; instance: SigstoreInstance; cachePath: string }
  | { kind: 'cache'; instance: SigstoreInstance; path: string }
  | { kind: 'embedded'; instance: SigstoreInstance; from: string };

export interface LoadedTrustedRoot {
  root: TrustedRoot;
  origin: TrustedRootOrigin;
}

/** One line for people: "embedded public-good root (…)", "file root.json (ClientTrustConfig)", … */
export function describeOrigin(origin: TrustedRootOrigin): string {
  switch (origin.kind) {
    case 'file':
      return `trusted root from ${origin.path}${origin.format === 'client-trust-config' ? ' (ClientTrustConfig)' : ''}`;
    case 'tuf':
      return `${origin.instance} trusted root refreshed over TUF (cache ${origin.cachePath})`;
    case 'cache':
      return `cached ${origin.instance} trusted root ${origin.path}`;
    case 'embedded':
      return `embedded ${origin.instance} trusted root (${origin.from})`;
  }
}
