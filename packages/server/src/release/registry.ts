// Every OCI import of the server is here, from @cosignkit/oci.
export {
  dockerConfigCredentials,
  RegistryClient,
  verifyImageSignatures,
} from '@cosignkit/oci';
export type { FoundSignature, ImageVerification, KeylessCheck, KeylessSignatureVerifier } from '@cosignkit/oci';
