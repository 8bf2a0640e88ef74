export { createSignerServer, REFERRERS_ROUTE, SIGN_ROUTE } from './app.js';
export type { SignerServer, SignerServerOptions } from './app.js';
export { loadServerConfig, parseServerConfig } from './config.js';
export type { JwtIssuerConfig, KeylessConfig, Plan, ReleaseConfig, ServerConfig } from './config.js';
export { Problem, PROBLEM_BASE, PROBLEM_CONTENT_TYPE } from './problem.js';
export { AuditLog } from './audit-log.js';
export type { AuditRecord } from './audit-log.js';
export { StatementSigner } from './statement-signer.js';
export { KeylessStatementSigner } from './keyless-statement-signer.js';
export type { KeylessSignedStatement } from './keyless-statement-signer.js';
export { certificateThumbprint, certificateThumbprintOfPem, SIGN_SCOPE } from './auth/op-token.js';
export type { Caller } from './auth/op-token.js';
export type { Entitlement, ProofOfEntitlement } from './auth/entitlement.js';
export type { ReleaseChecker, ReleaseVerdict } from './release/release-check.js';
export { createServerLogger, REDACT_PATHS } from './server-logger.js';
export { SignerClient } from './client.js';
export { dpopBindingOf, readDpopKey } from './dpop-key.js';
export type { DpopKey } from './dpop-key.js';
export type { RawResponse, SignDsseRequest, SignDsseResponse, SignerClientOptions } from './client.js';
export {
  createDevEnvironment,
  DEV_PLAN,
  DEV_PREDICATE_TYPES,
  DEV_TENANT,
  writeDevJson,
} from './dev/dev-environment.js';
export type { DevEnvironment } from './dev/dev-environment.js';
export { DevIssuer } from './dev/dev-issuer.js';
export { linkDevStack } from './dev/dev-stack-link.js';
export type { DevStackLink } from './dev/dev-stack-link.js';
export { createDevCa } from './dev/dev-pki.js';
export { RegistryReleaseChecker } from './release/registry-release-checker.js';
export { createSignerFromConfig } from './start.js';
