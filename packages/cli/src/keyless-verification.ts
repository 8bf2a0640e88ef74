// What the keyless verifying commands take from @cosignkit/sigstore, in one module of its own: the hot bundles
// load it as one code-cached file of the command (dist/bin/lazy/keyless-verification.cjs, tsup.config.ts)
// rather than through the package, whose functions Node compiles again on every run (issue 19).
export {
  compileIdentityPolicy,
  describeOrigin,
  loadTrustedRoot,
  readBundleFile,
  verifyBundleFile,
  verifyCertificateSignature,
} from '@cosignkit/sigstore';
export type { KeylessVerification } from '@cosignkit/sigstore';
