// Every OCI import of the server is here: when the OCI client moves to @cosignkit/oci, only this line changes.
export { dockerConfigCredentials, RegistryClient, verifyImageSignatures } from '@cosignkit/core';
export type { FoundSignature, ImageVerification } from '@cosignkit/core';
