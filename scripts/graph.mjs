// The package graph (DESIGN.md): which workspace packages each package's src may import. One row per package;
// a package missing here fails the check, so a new package must say where it stands.
// Read upwards: core at the bottom; nothing imports up or around.
const KEY_BACKENDS = ['@cosignkit/key-file', '@cosignkit/key-pkcs11', '@cosignkit/key-tpm', '@cosignkit/key-keyring'];

export const ALLOWED_IMPORTS = {
  '@cosignkit/core': [],
  '@cosignkit/key-file': ['@cosignkit/core'],
  '@cosignkit/key-pkcs11': ['@cosignkit/core'],
  '@cosignkit/key-tpm': ['@cosignkit/core'],
  '@cosignkit/key-keyring': ['@cosignkit/core'],
  '@cosignkit/key-testkit': ['@cosignkit/core'],
  '@cosignkit/dsse': ['@cosignkit/core'],
  '@cosignkit/oci': ['@cosignkit/core', '@cosignkit/dsse'],
  // Keyless trust material, verification and signing on sigstore-js.
  '@cosignkit/sigstore': ['@cosignkit/core', '@cosignkit/dsse'],
  // A local Sigstore stack for tests and demos: @sigstore/mock over HTTP, no cosignkit package (sigstore's
  // tests use it, so it may not import sigstore back).
  '@cosignkit/dev-stack': [],
  // The roles (front package): engines and Signer/Verifier/Attester over backends, dsse, oci, sigstore.
  cosignkit: ['@cosignkit/core', '@cosignkit/dsse', '@cosignkit/oci', '@cosignkit/sigstore', ...KEY_BACKENDS],
  // The agent and the plugin load backends by key scheme at run time (the registry), not by a static import: the
  // native ones are optional peers, so a stock-cosign user installs only the backend they use.
  '@cosignkit/agent': ['@cosignkit/core', ...KEY_BACKENDS],
  '@cosignkit/server': [
    '@cosignkit/core',
    '@cosignkit/dsse',
    '@cosignkit/oci',
    '@cosignkit/sigstore',
    'cosignkit',
    ...KEY_BACKENDS,
  ],
  '@cosignkit/cli': [
    '@cosignkit/core',
    '@cosignkit/dsse',
    '@cosignkit/oci',
    '@cosignkit/sigstore',
    'cosignkit',
    '@cosignkit/agent',
    // `cosignkit dev-stack` serves the local Sigstore stack.
    '@cosignkit/dev-stack',
    '@cosignkit/server',
    ...KEY_BACKENDS,
  ],
};
