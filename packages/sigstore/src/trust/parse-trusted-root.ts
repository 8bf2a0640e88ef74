import { CosignkitError } from '@cosignkit/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';

const TRUSTED_ROOT_PREFIX = 'application/vnd.dev.sigstore.trustedroot';
const CLIENT_TRUST_CONFIG_PREFIX = 'application/vnd.dev.sigstore.clienttrustconfig';

/**
 * A TrustedRoot, or a ClientTrustConfig (`{mediaType, trustedRoot, signingConfig}`) whose trustedRoot is
 * taken. Anything else is refused: a wrong file here would silently verify against nothing.
 */
export function parseTrustedRoot(
  json: unknown,
  what: string,
): { root: TrustedRoot; format: 'trusted-root' | 'client-trust-config' } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CosignkitError('BUNDLE_MALFORMED', `${what}: not a JSON object`);
  }
  const object = json as Record<string, unknown>;
  const mediaType = typeof object.mediaType === 'string' ? object.mediaType : '';
  let format: 'trusted-root' | 'client-trust-config' = 'trusted-root';
  let inner: unknown = object;
  if (mediaType.startsWith(CLIENT_TRUST_CONFIG_PREFIX) || (mediaType === '' && 'trustedRoot' in object)) {
    format = 'client-trust-config';
    inner = object.trustedRoot;
    if (typeof inner !== 'object' || inner === null) {
      throw new CosignkitError('BUNDLE_MALFORMED', `${what}: a ClientTrustConfig without a trustedRoot`);
    }
  } else if (mediaType !== '' && !mediaType.startsWith(TRUSTED_ROOT_PREFIX)) {
    throw new CosignkitError(
      'BUNDLE_MALFORMED',
      `${what}: media type "${mediaType}" is neither a TrustedRoot nor a ClientTrustConfig`,
    );
  }
  let root: TrustedRoot;
  try {
    root = TrustedRoot.fromJSON(inner);
  } catch (error) {
    throw new CosignkitError('BUNDLE_MALFORMED', `${what}: not a valid TrustedRoot (${(error as Error).message})`, {
      cause: error,
    });
  }
  const innerMediaType = root.mediaType;
  if (innerMediaType !== '' && !innerMediaType.startsWith(TRUSTED_ROOT_PREFIX)) {
    throw new CosignkitError(
      'BUNDLE_MALFORMED',
      `${what}: trustedRoot media type "${innerMediaType}" is not a TrustedRoot`,
    );
  }
  return { root, format };
}
