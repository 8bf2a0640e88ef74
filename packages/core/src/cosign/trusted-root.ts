/**
 * A trusted root with no authorities at all: enough for cosign to verify key-based, log-less Sigstore
 * bundles offline (without it, `verify-blob --new-bundle-format` refreshes TUF metadata over the network).
 */
export const EMPTY_TRUSTED_ROOT = JSON.stringify({
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
});
