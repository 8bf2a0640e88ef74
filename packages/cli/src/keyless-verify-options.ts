import { CosignkitError, type KeylessPolicy } from '@cosignkit/core';
import type { ParsedFlags } from './args.js';
import { booleanFlag, stringFlag } from './args.js';
import type { CommandContext, CommandResult } from './command.js';
import { usageError } from './usage-error.js';

/**
 * Keyless verification for verify-blob, verify-blob-attestation and verify-dsse (issue 13): cosign's
 * identity and trust flags, parsed here and handed to @cosignkit/sigstore. The commands only spread
 * KEYLESS_FLAGS into their flag table and call in when `isKeyless` says so; @cosignkit/sigstore is imported
 * on that path only (./keyless-verification.js), so key-based verification loads none of it.
 */
export const KEYLESS_FLAGS = {
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  'certificate-oidc-issuer-regexp': { type: 'string' },
  'certificate-github-workflow-trigger': { type: 'string' },
  'certificate-github-workflow-sha': { type: 'string' },
  'certificate-github-workflow-name': { type: 'string' },
  'certificate-github-workflow-repository': { type: 'string' },
  'certificate-github-workflow-ref': { type: 'string' },
  'insecure-ignore-sct': { type: 'boolean' },
  'use-signed-timestamps': { type: 'boolean' },
  offline: { type: 'boolean' },
  staging: { type: 'boolean' },
} as const;

export const KEYLESS_HELP = `Keyless (a Fulcio certificate in the bundle; used when no --key is given):
  --certificate-identity <san>          the exact identity (email or URI SAN) of the signer
  --certificate-identity-regexp <re>    a Go regexp the identity must match (unanchored, as cosign: use ^…$)
  --certificate-oidc-issuer <url>       the exact OIDC issuer in the certificate
  --certificate-oidc-issuer-regexp <re> a Go regexp the issuer must match (unanchored)
  --certificate-github-workflow-{trigger,sha,name,repository,ref} <value>
                                        the certificate's GitHub workflow extension must equal this
  --trusted-root <file>                 a TrustedRoot or ClientTrustConfig (default: public good over TUF,
                                        else the cached, else the embedded root)
  --offline                             never touch the network: the cached or embedded root
  --staging                             the staging instance (sigstage.dev) instead of public good
  --insecure-ignore-tlog                no transparency log entry required (nor its time used)
  --insecure-ignore-sct                 no embedded SCT required
  --use-signed-timestamps               an RFC 3161 timestamp that verifies is required`;

export const IDENTITY_FLAGS = [
  'certificate-identity',
  'certificate-identity-regexp',
  'certificate-oidc-issuer',
  'certificate-oidc-issuer-regexp',
] as const;

/** Keyless when no key is given (on the line or as the configured default) or any identity flag is. */
export function isKeyless(command: string, flags: ParsedFlags, context: CommandContext, keyFlag = 'key'): boolean {
  if (IDENTITY_FLAGS.some((f) => stringFlag(flags, f) !== undefined)) {
    if (stringFlag(flags, keyFlag) !== undefined)
      throw usageError(command, `--${keyFlag} and --certificate-* flags exclude each other`);
    return true;
  }
  return stringFlag(flags, keyFlag) === undefined && context.config.defaultKey === undefined;
}

/** cosign's keyless flags as the roles' KeylessPolicy (image verification compiles and loads it there). */
export function keylessPolicyOf(flags: ParsedFlags): KeylessPolicy {
  const text = (name: string) => stringFlag(flags, name);
  const policy: KeylessPolicy = {
    certificateIdentity: text('certificate-identity'),
    certificateIdentityRegexp: text('certificate-identity-regexp'),
    certificateOidcIssuer: text('certificate-oidc-issuer'),
    certificateOidcIssuerRegexp: text('certificate-oidc-issuer-regexp'),
    githubWorkflowTrigger: text('certificate-github-workflow-trigger'),
    githubWorkflowSha: text('certificate-github-workflow-sha'),
    githubWorkflowName: text('certificate-github-workflow-name'),
    githubWorkflowRepository: text('certificate-github-workflow-repository'),
    githubWorkflowRef: text('certificate-github-workflow-ref'),
    trustedRootPath: text('trusted-root'),
    offline: booleanFlag(flags, 'offline') ?? false,
    staging: booleanFlag(flags, 'staging') ?? false,
    insecureIgnoreTlog: booleanFlag(flags, 'insecure-ignore-tlog') ?? false,
    insecureIgnoreSct: booleanFlag(flags, 'insecure-ignore-sct') ?? false,
    useSignedTimestamps: booleanFlag(flags, 'use-signed-timestamps') ?? false,
  };
  // Unset flags are left out: the policy's own checks say which ones are missing.
  return Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined)) as KeylessPolicy;
}

type KeylessVerification = import('./keyless-verification.js').KeylessVerification;

/** The identity policy, the trusted root and the options every keyless check of one command shares. */
export async function prepare(
  command: string,
  flags: ParsedFlags,
  context: CommandContext,
  identity?: { identity?: string; issuer?: string },
) {
  const sigstore = await import('./keyless-verification.js');
  const policy = sigstore.compileIdentityPolicy(
    {
      certificateIdentity: identity?.identity ?? stringFlag(flags, 'certificate-identity'),
      certificateIdentityRegexp: stringFlag(flags, 'certificate-identity-regexp'),
      certificateOidcIssuer: identity?.issuer ?? stringFlag(flags, 'certificate-oidc-issuer'),
      certificateOidcIssuerRegexp: stringFlag(flags, 'certificate-oidc-issuer-regexp'),
      githubWorkflowTrigger: stringFlag(flags, 'certificate-github-workflow-trigger'),
      githubWorkflowSha: stringFlag(flags, 'certificate-github-workflow-sha'),
      githubWorkflowName: stringFlag(flags, 'certificate-github-workflow-name'),
      githubWorkflowRepository: stringFlag(flags, 'certificate-github-workflow-repository'),
      githubWorkflowRef: stringFlag(flags, 'certificate-github-workflow-ref'),
    },
    { required: true, logger: context.logger },
  );
  const trustedRootPath = stringFlag(flags, 'trusted-root');
  if (trustedRootPath !== undefined && (booleanFlag(flags, 'staging') ?? false)) {
    throw usageError(command, '--trusted-root and --staging exclude each other');
  }
  const loaded = await sigstore.loadTrustedRoot({
    ...(trustedRootPath !== undefined ? { trustedRootPath } : {}),
    staging: booleanFlag(flags, 'staging') ?? false,
    offline: booleanFlag(flags, 'offline') ?? false,
    env: context.env,
    logger: context.logger,
  });
  const options = {
    trustedRoot: loaded.root,
    trustedRootOrigin: loaded.origin,
    policy,
    insecureIgnoreTlog: booleanFlag(flags, 'insecure-ignore-tlog') ?? false,
    insecureIgnoreSct: booleanFlag(flags, 'insecure-ignore-sct') ?? false,
    useSignedTimestamps: booleanFlag(flags, 'use-signed-timestamps') ?? false,
    logger: context.logger,
    signal: context.signal,
  };
  return { sigstore, options, rootNote: `trusted root: ${sigstore.describeOrigin(loaded.origin)}` };
}

function outcome(result: KeylessVerification, rootNote: string, extra: Partial<CommandResult> = {}): CommandResult {
  const notes = [rootNote];
  if (!result.verified) {
    // One line on stderr, like every error: the root used is named in it rather than on a line of its own.
    const why = result.failures.map((f) => f.message).join('; ');
    return {
      exitCode: 2,
      data: { ...result, envelope: undefined },
      notes: [`cosignkit: verification failed (${rootNote}): ${why} [VERIFICATION_FAILED]`],
      ...extra,
    };
  }
  const cert = result.signatures[0]?.certificate;
  return {
    text: 'Verified OK',
    data: { ...result, envelope: undefined },
    notes: cert ? [...notes, `signer: ${cert.identity} (issuer ${cert.issuer})`] : notes,
    ...extra,
  };
}

/** `verify-blob` with a keyless bundle: <file> is a path or `sha256:<hex>`. */
export async function verifyBlobKeyless(context: CommandContext, flags: ParsedFlags): Promise<CommandResult> {
  const bundle = stringFlag(flags, 'bundle');
  const certificate = stringFlag(flags, 'certificate');
  if (certificate !== undefined) {
    const signature = stringFlag(flags, 'signature');
    if (signature === undefined) throw usageError('verify-blob', '--certificate needs --signature <file>');
    const { sigstore, options, rootNote } = await prepare('verify-blob', flags, context);
    const chain = stringFlag(flags, 'certificate-chain');
    const timestamp = stringFlag(flags, 'rfc3161-timestamp');
    const result = await sigstore.verifyCertificateSignature(
      {
        certificate,
        signature,
        ...(chain !== undefined ? { certificateChain: chain } : {}),
        ...(bundle !== undefined ? { bundle } : {}),
        ...(timestamp !== undefined ? { rfc3161Timestamp: timestamp } : {}),
      },
      flags.positionals[0]!,
      {
        ...options,
        offline: booleanFlag(flags, 'offline') ?? false,
        ...(stringFlag(flags, 'rekor-url') !== undefined ? { rekorUrl: stringFlag(flags, 'rekor-url') } : {}),
      },
    );
    return outcome(result, rootNote);
  }
  if (bundle === undefined) {
    throw usageError(
      'verify-blob',
      'keyless verification reads a bundle: pass --bundle <file>, or --certificate <pem> with --signature <file>',
    );
  }
  const { sigstore, options, rootNote } = await prepare('verify-blob', flags, context);
  const result = await sigstore.verifyBundleFile(bundle, flags.positionals[0]!, options);
  if (result.bundle?.content === 'dsse') {
    // as cosign: a DSSE bundle is checked by verify-blob-attestation; here its subject must name the file
    context.logger.info('the bundle holds a DSSE envelope: its in-toto subject was matched against the file');
  }
  return outcome(result, rootNote);
}

/** `verify-blob-attestation` with a keyless bundle (`--check-claims=false`: without the artifact). */
export async function verifyBlobAttestationKeyless(
  context: CommandContext,
  flags: ParsedFlags,
  options: { file: string | undefined; checkClaims: boolean; expectedType: string },
): Promise<CommandResult> {
  const bundle = stringFlag(flags, 'bundle');
  if (bundle === undefined)
    throw usageError('verify-blob-attestation', 'keyless verification reads a bundle: pass --bundle <file>');
  const { sigstore, options: verifyOptions, rootNote } = await prepare('verify-blob-attestation', flags, context);
  const result = await sigstore.verifyBundleFile(bundle, options.checkClaims ? options.file : undefined, verifyOptions);
  if (result.bundle?.content !== 'dsse' || !result.envelope) {
    throw new CosignkitError(
      'BUNDLE_MALFORMED',
      'the bundle holds a message signature, not an attestation: use verify-blob',
    );
  }
  const { IN_TOTO_PAYLOAD_TYPE, readStatement } = await import('@cosignkit/dsse');
  if (result.envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new CosignkitError(
      'ENVELOPE_MALFORMED',
      `envelope payloadType is "${result.envelope.payloadType}", not an in-toto attestation`,
    );
  }
  const statement = readStatement(result.envelope.payload);
  if (result.verified && statement.predicateType !== options.expectedType) {
    result.verified = false;
    result.failures.push({
      code: 'VERIFICATION_FAILED',
      message: `invalid predicate type, expected ${options.expectedType} got ${statement.predicateType}`,
    });
  }
  return outcome(result, rootNote);
}

/** `verify-dsse --sigstore-bundle B --sigstore-identity I --sigstore-issuer S` (seed 003), then the statement policy. */
export async function verifyDsseKeyless(
  context: CommandContext,
  flags: ParsedFlags,
  policy: import('@cosignkit/dsse').DssePolicy,
): Promise<CommandResult> {
  const bundle = stringFlag(flags, 'sigstore-bundle')!;
  const identity = stringFlag(flags, 'sigstore-identity');
  const issuer = stringFlag(flags, 'sigstore-issuer');
  if (identity === undefined && stringFlag(flags, 'certificate-identity-regexp') === undefined) {
    throw usageError(
      'verify-dsse',
      '--sigstore-bundle needs --sigstore-identity <san> (or --certificate-identity-regexp)',
    );
  }
  if (issuer === undefined && stringFlag(flags, 'certificate-oidc-issuer-regexp') === undefined) {
    throw usageError(
      'verify-dsse',
      '--sigstore-bundle needs --sigstore-issuer <url> (or --certificate-oidc-issuer-regexp)',
    );
  }
  const { sigstore, options, rootNote } = await prepare('verify-dsse', flags, context, {
    ...(identity !== undefined ? { identity } : {}),
    ...(issuer !== undefined ? { issuer } : {}),
  });
  const result = await sigstore.verifyBundleFile(bundle, undefined, options);
  if (result.bundle?.content !== 'dsse' || !result.envelope) {
    throw new CosignkitError('BUNDLE_MALFORMED', 'the Sigstore bundle holds a message signature, not a DSSE envelope');
  }
  const { evaluatePolicy, parseEnvelope } = await import('@cosignkit/dsse');
  const json = (await sigstore.readBundleFile(bundle)) as { dsseEnvelope?: unknown };
  const envelope = parseEnvelope(JSON.stringify(json.dsseEnvelope));
  const signer = result.signatures[0]?.certificate?.identity ?? '';
  // The envelope's one signature was verified above against the certificate; the policy sees its identity.
  const { unmet, statement } = evaluatePolicy(
    envelope,
    {
      allValid: result.verified,
      validSigners: result.verified ? [signer] : [],
      signatures: [{ index: 0, keyid: '', signer, valid: result.verified }],
    },
    policy,
  );
  for (const rule of unmet.filter((u) => u.rule !== 'signatures')) {
    result.verified = false;
    result.failures.push({ code: 'VERIFICATION_FAILED', message: `unmet ${rule.rule}: ${rule.message}` });
  }
  const lines = result.verified ? [`signature 0: valid, signed by ${signer}`, 'Verified OK'] : [];
  const outcomeResult = outcome(result, rootNote);
  return {
    ...outcomeResult,
    ...(result.verified ? { text: lines.join('\n') } : {}),
    data: {
      ...(outcomeResult.data as object),
      payloadType: envelope.payloadType,
      ...(statement ? { predicateType: statement.predicateType, subjects: statement.subject } : {}),
    },
  };
}
