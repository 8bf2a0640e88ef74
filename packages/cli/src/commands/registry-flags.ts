// Only the registry flags' names and help, apart from oci-shared.ts: sign-blob and attest-blob list them for
// --push, and oci-shared.ts would load the OCI client on every run of theirs (issue 19).

/** Flags every registry command takes, with cosign's names. */
export const REGISTRY_FLAGS = {
  'allow-http-registry': { type: 'boolean' },
  'allow-insecure-registry': { type: 'boolean' },
  'registry-timeout': { type: 'string' },
} as const;

export const REGISTRY_HELP = `  --allow-http-registry        plain HTTP to a registry that is not on loopback (loopback always may)
  --allow-insecure-registry    the same, as cosign spells it for TLS without verification
  --registry-timeout <dur>     deadline of each exchange with the registry (30s, 2m; default 3m;
                               env COSIGNKIT_REGISTRY_TIMEOUT)`;
