// The light entry (`cosignkit/blob`): the roles a blob command needs, without the index's registry side.
// Through the index, a bundler that splits by reachability (esbuild) gives a command importing only
// createVerifier every module the index names, the OCI client and node:http among them (issue 19).
export { createSigner } from './roles/signer.js';
export { createVerifier } from './roles/verifier.js';
export { runPool } from './batch/run-pool.js';
export { signManyWithSigstore } from './batch/sign-many-sigstore.js';
export type { SigstoreBlobResult, SignManyWithSigstoreOptions } from './batch/sign-many-sigstore.js';
export type { EngineChoice, RoleOptions } from './roles/role-options.js';
