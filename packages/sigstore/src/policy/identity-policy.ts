import { CosignkitError, type KeylessPolicy, type Logger } from '@cosignkit/core';
import { compileGoRegexp, goRegexpMatches, type GoRegexp } from './go-regexp.js';
import type { FulcioExtensions } from './fulcio-extensions.js';

/** cosign's keyless identity flags, as given on the command line (core's KeylessPolicy, less the trust options). */
export type IdentityPolicyInput = Pick<
  KeylessPolicy,
  | 'certificateIdentity'
  | 'certificateIdentityRegexp'
  | 'certificateOidcIssuer'
  | 'certificateOidcIssuerRegexp'
  | 'githubWorkflowTrigger'
  | 'githubWorkflowSha'
  | 'githubWorkflowName'
  | 'githubWorkflowRepository'
  | 'githubWorkflowRef'
>;

/** A compiled policy: exact strings compared as they are, regexps with Go's unanchored semantics. */
export interface IdentityPolicy {
  identity?: string;
  identityRegexp?: GoRegexp;
  issuer?: string;
  issuerRegexp?: GoRegexp;
  /** Exact values of the v1 GitHub workflow extensions (cosign's --certificate-github-workflow-* flags). */
  githubWorkflow: Partial<Record<GithubWorkflowField, string>>;
}

export type GithubWorkflowField =
  | 'githubWorkflowTrigger'
  | 'githubWorkflowSha'
  | 'githubWorkflowName'
  | 'githubWorkflowRepository'
  | 'githubWorkflowRef';

const GITHUB_FLAGS: Record<GithubWorkflowField, string> = {
  githubWorkflowTrigger: '--certificate-github-workflow-trigger',
  githubWorkflowSha: '--certificate-github-workflow-sha',
  githubWorkflowName: '--certificate-github-workflow-name',
  githubWorkflowRepository: '--certificate-github-workflow-repository',
  githubWorkflowRef: '--certificate-github-workflow-ref',
};

/** The signer a policy is checked against: every SAN of the leaf certificate and its Fulcio extensions. */
export interface SignerIdentity {
  subjectAlternativeNames: string[];
  extensions: FulcioExtensions;
}

/**
 * Compiles cosign's flags. As cosign, a keyless verification needs an identity (exact or regexp) and an
 * issuer (exact or regexp): `required` makes their absence a USAGE error. A regexp without `^…$` matches
 * substrings (cosign's semantics, kept for compatibility); that surprises people, so it is warned about.
 */
export function compileIdentityPolicy(
  input: IdentityPolicyInput,
  options: { required: boolean; logger?: Logger },
): IdentityPolicy {
  const policy: IdentityPolicy = { githubWorkflow: {} };
  if (input.certificateIdentity !== undefined) policy.identity = input.certificateIdentity;
  if (input.certificateIdentityRegexp !== undefined) {
    policy.identityRegexp = compileGoRegexp(input.certificateIdentityRegexp, '--certificate-identity-regexp');
  }
  if (input.certificateOidcIssuer !== undefined) policy.issuer = input.certificateOidcIssuer;
  if (input.certificateOidcIssuerRegexp !== undefined) {
    policy.issuerRegexp = compileGoRegexp(input.certificateOidcIssuerRegexp, '--certificate-oidc-issuer-regexp');
  }
  for (const field of Object.keys(GITHUB_FLAGS) as GithubWorkflowField[]) {
    if (input[field] !== undefined) policy.githubWorkflow[field] = input[field];
  }
  if (options.required) {
    if (policy.identity === undefined && policy.identityRegexp === undefined) {
      throw new CosignkitError(
        'USAGE',
        'keyless verification needs --certificate-identity or --certificate-identity-regexp',
      );
    }
    if (policy.issuer === undefined && policy.issuerRegexp === undefined) {
      throw new CosignkitError(
        'USAGE',
        'keyless verification needs --certificate-oidc-issuer or --certificate-oidc-issuer-regexp',
      );
    }
  }
  for (const [flag, pattern] of [
    ['--certificate-identity-regexp', policy.identityRegexp],
    ['--certificate-oidc-issuer-regexp', policy.issuerRegexp],
  ] as const) {
    if (pattern && !pattern.anchored) {
      options.logger?.warn(`${flag} "${pattern.source}" has no ^…$: it matches anywhere in the value, as in cosign`);
    }
  }
  return policy;
}

/** Each rule of the policy the signer does not meet, as one line naming the flag, the expected and the actual value. */
export function evaluateIdentityPolicy(policy: IdentityPolicy, signer: SignerIdentity): string[] {
  const unmet: string[] = [];
  const sans = signer.subjectAlternativeNames;
  const shownSans = sans.length === 0 ? '(none)' : sans.map((s) => JSON.stringify(s)).join(', ');
  if (policy.identity !== undefined && !sans.includes(policy.identity)) {
    unmet.push(`--certificate-identity: expected ${JSON.stringify(policy.identity)}, the certificate has ${shownSans}`);
  }
  if (policy.identityRegexp && !sans.some((san) => goRegexpMatches(policy.identityRegexp!, san))) {
    unmet.push(
      `--certificate-identity-regexp: ${JSON.stringify(policy.identityRegexp.source)} matches none of ${shownSans}`,
    );
  }
  const issuer = signer.extensions.issuer;
  const shownIssuer = issuer === undefined ? '(none)' : JSON.stringify(issuer);
  if (policy.issuer !== undefined && issuer !== policy.issuer) {
    unmet.push(
      `--certificate-oidc-issuer: expected ${JSON.stringify(policy.issuer)}, the certificate has ${shownIssuer}`,
    );
  }
  if (policy.issuerRegexp && (issuer === undefined || !goRegexpMatches(policy.issuerRegexp, issuer))) {
    unmet.push(
      `--certificate-oidc-issuer-regexp: ${JSON.stringify(policy.issuerRegexp.source)} does not match ${shownIssuer}`,
    );
  }
  for (const [field, expected] of Object.entries(policy.githubWorkflow) as [GithubWorkflowField, string][]) {
    const actual = signer.extensions[field];
    if (actual !== expected) {
      unmet.push(
        `${GITHUB_FLAGS[field]}: expected ${JSON.stringify(expected)}, the certificate has ${actual === undefined ? '(none)' : JSON.stringify(actual)}`,
      );
    }
  }
  return unmet;
}
