export { DevStack, DEFAULT_IDENTITY, STACK_FILES } from './dev-stack.js';
export type { DevStackOptions, StackInfo } from './dev-stack.js';
export type { TokenOptions } from './oidc-issuer.js';
export {
  buildSigningConfig,
  buildTrustedRoot,
  SIGNING_CONFIG_MEDIA_TYPE,
  TRUSTED_ROOT_MEDIA_TYPE,
} from './trust-material.js';
export { canonicalizeProposal } from './rekor-service.js';
