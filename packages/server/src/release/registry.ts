// Every OCI import of the server is here, from @cosignkit/oci.
export {
  COSIGN_SIGN_PREDICATE,
  dockerConfigCredentials,
  parseImageReference,
  readBundleReferrers,
  readSignatureLayers,
  RegistryClient,
  verifyImageSignatures,
} from '@cosignkit/oci';
export type { FoundSignature, ImageVerification } from '@cosignkit/oci';
