export { CosignRunner } from './cosign-runner.js';
export type {
  CosignRunnerOptions,
  CosignRunOptions,
  CosignRunOutput,
  CosignSignBlobOptions,
  CosignVerifyBlobOptions,
} from './cosign-runner.js';
export { findCosign, findOnPath, locateCosign } from './find-cosign.js';
export type { CosignGrammar, CosignInfo, FindCosignOptions } from './find-cosign.js';
export { redactArgv, signBlobArgs, verifyBlobArgs } from './argv.js';
export type { SignBlobArgs, VerifyBlobArgs } from './argv.js';
export { COSIGN_EXIT, cosignError, cosignReason, isVerificationMismatch } from './cosign-errors.js';
export { EMPTY_TRUSTED_ROOT } from './trusted-root.js';
