import { assertReadableFile, CosignkitError, commitOutputs, digestFile } from '@cosignkit/core';
import type { ParsedFlags } from './args.js';
import { booleanFlag, stringFlag } from './args.js';
import type { CommandContext, CommandResult } from './command.js';
import { interactiveAllowed, interactiveToken, OIDC_FLAGS, OIDC_HELP } from './interactive-login.js';
import { usageError } from './usage-error.js';

/**
 * Keyless signing and keyed signing with a log (issue 14) for sign-blob and attest-blob: the flags, the
 * decision, and the signing through @cosignkit/sigstore. The commands spread KEYLESS_SIGN_FLAGS into their
 * table and call `signingMode`; @cosignkit/sigstore is imported only on these paths.
 */
export const KEYLESS_SIGN_FLAGS = {
  'identity-token': { type: 'string' },
  'signing-config': { type: 'string' },
  'fulcio-url': { type: 'string' },
  'rekor-url': { type: 'string' },
  'timestamp-server-url': { type: 'string' },
  'trusted-root': { type: 'string' },
  ...OIDC_FLAGS,
} as const;

export const KEYLESS_SIGN_HELP = `Keyless signing (no --key; a Fulcio certificate for an OIDC identity) and signing with a log:
  --identity-token <file|env:NAME>  the OIDC ID token: a file holding it, or env:NAME; never the token
                                    itself (argv is visible to other users). Else $SIGSTORE_ID_TOKEN, else
                                    GitHub Actions' ambient token (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN).
                                    Else an interactive sign-in (below).
  --signing-config <file>           a Sigstore SigningConfig v0.2: the CA, Rekor log and TSA to use
                                    (default: public good's Fulcio and Rekor, no TSA)
  --fulcio-url, --rekor-url, --timestamp-server-url <url>   override the signing config's services
  --tlog-upload[=bool]              keyless: default true (the config's log). With --key: default false
                                    (cosignkit signs offline); =true uploads the signature to Rekor and the
                                    bundle carries the entry (cosign's default is true)
  --trusted-root <file>             keyless: verify the new bundle against this root before writing it
Keyless is used when no --key is given and there is a token, or when --identity-token or
--signing-config/--fulcio-url is given without --key. The ephemeral key lives in memory only; the bundle
(--bundle, required) is a Sigstore v0.3 bundle with the certificate and the log entry and/or timestamp.
${OIDC_HELP}`;

/** The keyless flags' help, with the image layout in place of the blob commands' --bundle sentence. */
export function imageKeylessHelp(): string {
  return KEYLESS_SIGN_HELP.replace(
    'the bundle\n(--bundle, required) is a Sigstore v0.3 bundle with the certificate and the log entry and/or timestamp.',
    'the image signature\ncarries the certificate and the log entry as annotations (legacy layout).',
  );
}

export type SigningMode = { kind: 'key'; key: string } | { kind: 'keyed-log'; key: string } | { kind: 'keyless' };

/** Which way to sign, from the flags (cosign's semantics where cosignkit's offline default allows). */
export function signingMode(command: string, flags: ParsedFlags, context: CommandContext): SigningMode {
  const keyFlag = stringFlag(flags, 'key');
  const keylessAsked =
    stringFlag(flags, 'identity-token') !== undefined ||
    stringFlag(flags, 'fulcio-url') !== undefined ||
    stringFlag(flags, 'oidc-issuer') !== undefined;
  if (keyFlag !== undefined && keylessAsked)
    throw usageError(command, '--key and --identity-token/--fulcio-url/--oidc-issuer exclude each other');
  const logAsked =
    booleanFlag(flags, 'tlog-upload') === true ||
    booleanFlag(flags, 'use-signing-config') === true ||
    stringFlag(flags, 'signing-config') !== undefined ||
    stringFlag(flags, 'rekor-url') !== undefined ||
    stringFlag(flags, 'timestamp-server-url') !== undefined;
  if (keyFlag !== undefined) return logAsked ? { kind: 'keyed-log', key: keyFlag } : { kind: 'key', key: keyFlag };
  const tokenAvailable =
    Boolean(context.env.SIGSTORE_ID_TOKEN) ||
    Boolean(context.env.ACTIONS_ID_TOKEN_REQUEST_URL && context.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
  // Without --key: keyless when asked for, or when no default key is configured (as cosign, which has none).
  if (keylessAsked || stringFlag(flags, 'signing-config') !== undefined || context.config.defaultKey === undefined) {
    if (
      keylessAsked ||
      tokenAvailable ||
      stringFlag(flags, 'signing-config') !== undefined ||
      interactiveAllowed(flags)
    )
      return { kind: 'keyless' };
    throw usageError(
      command,
      'no key and no identity token: pass --key <ref>, or sign keyless with $SIGSTORE_ID_TOKEN or --identity-token <file>',
    );
  }
  const key = context.config.defaultKey;
  return logAsked ? { kind: 'keyed-log', key } : { kind: 'key', key };
}

type Sigstore = typeof import('@cosignkit/sigstore');
type SigstoreKeyless = typeof import('@cosignkit/sigstore/keyless');
type SigstoreSign = typeof import('@cosignkit/sigstore/sign');

async function services(command: string, flags: ParsedFlags, keyless: boolean) {
  // The light entry: enough to know the services (a keyless command then asks Fulcio before loading the rest).
  const sigstore: SigstoreKeyless = await import('@cosignkit/sigstore/keyless');
  const tlogFlag = booleanFlag(flags, 'tlog-upload');
  // Keyless: the log is the default. Keyed (S-4): a log when --tlog-upload, a signing config, --rekor-url or
  // --use-signing-config asked for one; --timestamp-server-url alone gives a timestamp and no log.
  const keyedWantsLog =
    stringFlag(flags, 'signing-config') !== undefined ||
    stringFlag(flags, 'rekor-url') !== undefined ||
    booleanFlag(flags, 'use-signing-config') === true;
  const tlogUpload = tlogFlag ?? (keyless || keyedWantsLog ? undefined : false);
  const resolved = await sigstore.resolveSigningServices({
    keyless,
    signingConfigPath: stringFlag(flags, 'signing-config'),
    fulcioUrl: stringFlag(flags, 'fulcio-url'),
    rekorUrl: stringFlag(flags, 'rekor-url'),
    timestampServerUrl: stringFlag(flags, 'timestamp-server-url'),
    ...(tlogUpload !== undefined ? { tlogUpload } : {}),
  });
  if (!keyless && !resolved.rekorUrl && !resolved.tsaUrl)
    throw usageError(command, 'no transparency log or timestamp authority to use');
  return { sigstore, services: resolved };
}

interface Prepared {
  signer: import('@cosignkit/sigstore/sign').BundleSigner;
  notes: string[];
  /** Checks a new keyless bundle against --trusted-root; undefined without it. */
  check?: (
    bundle: unknown,
    artifact: { bytes: Buffer } | { digest: { algorithm: 'sha256'; value: Buffer } } | undefined,
  ) => Promise<void>;
  identity?: { subject: string; issuer: string };
  /** Keyless: the CA chain above the certificate (PEM), for cosign's legacy image annotations. */
  chain?: () => Promise<string[]>;
}

/** The signer for a keyless or keyed-log signature; the certificate request starts at once (overlapping hashing). */
export async function prepareSigner(
  command: string,
  mode: SigningMode,
  flags: ParsedFlags,
  context: CommandContext,
  options: { legacyImage?: boolean } = {},
): Promise<Prepared> {
  if (mode.kind === 'key') throw new CosignkitError('INTERNAL', 'prepareSigner is for keyless and keyed-log signing');
  const { sigstore, services: resolved } = await services(command, flags, mode.kind === 'keyless');
  if (options.legacyImage && resolved.rekorApiVersion === 2) {
    throw new CosignkitError(
      'NOT_SUPPORTED',
      "images are signed in cosign 2.x's legacy layout, whose Rekor bundle needs a Rekor v1 entry: the signing config names a Rekor v2 log (pass --format bundle, or --rekor-url for a v1 log)",
    );
  }
  const where = [
    resolved.fulcioUrl && `Fulcio ${resolved.fulcioUrl}`,
    resolved.rekorUrl && `Rekor${resolved.rekorApiVersion === 2 ? ' v2' : ''} ${resolved.rekorUrl}`,
    resolved.tsaUrl && `TSA ${resolved.tsaUrl}`,
  ]
    .filter(Boolean)
    .join(', ');
  if (mode.kind === 'keyed-log') {
    const [opened, signing] = await Promise.all([context.keys.open(mode.key), sigstore.loadSigning()]);
    const signer = await signing.createKeyedLogSigner(opened.manager, opened.keyId, resolved);
    return { signer, notes: [`services: ${where}`] };
  }
  let token = await sigstore.resolveIdentityToken({
    identityToken: stringFlag(flags, 'identity-token'),
    env: context.env,
    logger: context.logger,
    signal: context.signal,
  });
  if (!token && interactiveAllowed(flags)) {
    const main: Sigstore = await import('@cosignkit/sigstore');
    const value = await interactiveToken(main, command, flags, context);
    const issuer = stringFlag(flags, 'oidc-issuer') ?? main.PUBLIC_GOOD_OIDC_ISSUER;
    token = { token: value, claims: sigstore.parseIdentityToken(value), source: `sign-in at ${issuer}` };
  }
  if (!token)
    throw usageError(
      command,
      'keyless signing needs an identity token: $SIGSTORE_ID_TOKEN, --identity-token <file>, or a GitHub Actions job with id-token: write',
    );
  const identityToken = token.token;
  if (!resolved.fulcioUrl) throw new CosignkitError('USAGE', 'keyless signing needs a Fulcio URL');
  const key = new sigstore.EphemeralCertificateKey({
    fulcioUrl: resolved.fulcioUrl,
    getToken: async () => identityToken,
    // The token is fixed for the command: a refusal is final, not a reason to ask again when signing.
    askAgainAfterFailure: false,
  });
  // Ask Fulcio now, while the signing half of @cosignkit/sigstore loads and the caller hashes; a failure
  // surfaces when the signer is used. The verification half loads only to check the bundle (--trusted-root).
  key.material().catch(() => undefined);
  // Once the request has left: loaded before, the signing half would hold it back (one thread) for as long as
  // it takes to load, rather than load while Fulcio answers.
  await key.requestSent();
  const signing: SigstoreSign = await sigstore.loadSigning();
  const { signer } = signing.createKeylessSigner({ services: resolved, getToken: async () => identityToken, key });
  const trustedRootPath = stringFlag(flags, 'trusted-root');
  const prepared: Prepared = {
    signer,
    notes: [
      `services: ${where}`,
      `identity: ${token.claims.subject} (issuer ${token.claims.issuer}, token from ${token.source})`,
    ],
    identity: { subject: token.claims.subject, issuer: token.claims.issuer },
    chain: () => key.chain(),
  };
  if (trustedRootPath !== undefined) {
    const full: Sigstore = await import('@cosignkit/sigstore');
    // Loaded once for the command: a batch checks every bundle against the same root.
    let loading: ReturnType<typeof full.loadTrustedRoot> | undefined;
    const policy = full.compileIdentityPolicy(
      { certificateIdentityRegexp: '^.*$', certificateOidcIssuerRegexp: '^.*$' },
      { required: true, logger: context.logger },
    );
    prepared.check = async (bundle, artifact) => {
      loading ??= full.loadTrustedRoot({ trustedRootPath, env: context.env, logger: context.logger });
      const loaded = await loading;
      // Stricter than verifying, and first: a timestamp from our own TSA that does not verify is a broken
      // service (the verifier would only warn and skip it).
      full.checkNewTimestamps(bundle as Parameters<Sigstore['checkNewTimestamps']>[0], loaded.root);
      const result = full.verifyBundle(bundle, {
        trustedRoot: loaded.root,
        policy,
        ...(artifact ? { artifact } : {}),
        logger: context.logger,
      });
      if (!result.verified) {
        throw new CosignkitError(
          'VERIFICATION_FAILED',
          `the new bundle does not verify against ${trustedRootPath}: ${result.failures.map((f) => f.message).join('; ')}`,
        );
      }
    };
  }
  return prepared;
}

/** sign-blob, keyless or with a log: hash the file (streamed), sign, write the bundle only when all went well. */
export async function signBlobWithServices(
  command: string,
  mode: SigningMode,
  flags: ParsedFlags,
  context: CommandContext,
): Promise<CommandResult> {
  const bundlePath = stringFlag(flags, 'bundle');
  if (bundlePath === undefined)
    throw usageError(command, 'signing with a certificate or a log writes a Sigstore bundle: pass --bundle <file>');
  if (booleanFlag(flags, 'new-bundle-format') === false)
    throw usageError(
      command,
      'keyless and log signing write Sigstore bundles only (--new-bundle-format=false is not supported)',
    );
  const outputSignature = stringFlag(flags, 'output-signature') ?? stringFlag(flags, 'output');
  const file = flags.positionals[0]!;
  // A file that is not there (or not a file) is reported before Fulcio is asked: a certificate asked for is
  // issued, and a real Fulcio logs it. The hashing itself overlaps the request.
  await assertReadableFile(file);
  const [prepared, digest] = await Promise.all([
    prepareSigner(command, mode, flags, context),
    digestFile(file, 'sha256', { signal: context.signal }),
  ]);
  const bundle = await prepared.signer.signDigest(digest, context.signal);
  await prepared.check?.(bundle, { digest: { algorithm: 'sha256', value: Buffer.from(digest) } });
  const signature = (bundle.messageSignature as { signature: string }).signature;
  // Both outputs or neither.
  await commitOutputs([
    { path: bundlePath, data: `${JSON.stringify(bundle)}\n` },
    ...(outputSignature !== undefined ? [{ path: outputSignature, data: signature }] : []),
  ]);
  return {
    text: outputSignature === undefined ? signature : '',
    data: {
      signature,
      bundlePath,
      mode: mode.kind,
      ...(prepared.identity ? { identity: prepared.identity } : {}),
      tlogEntries: tlogSummary(bundle),
    },
    notes: [...prepared.notes, ...tlogNotes(bundle), `Wrote bundle to ${bundlePath}`],
  };
}

/** attest-blob, keyless or with a log: the DSSE bundle (and --output-file envelope) or nothing. */
export async function attestBlobWithServices(
  command: string,
  mode: SigningMode,
  flags: ParsedFlags,
  context: CommandContext,
  payload: { payloadType: string; bytes: Buffer },
): Promise<{
  bundle: Record<string, unknown>;
  envelopeText: string;
  notes: string[];
  identity?: { subject: string; issuer: string };
}> {
  if (booleanFlag(flags, 'new-bundle-format') === false)
    throw usageError(
      command,
      'keyless and log signing write Sigstore bundles only (--new-bundle-format=false is not supported)',
    );
  if (stringFlag(flags, 'bundle') === undefined)
    throw usageError(command, 'signing with a certificate or a log writes a Sigstore bundle: pass --bundle <file>');
  const prepared = await prepareSigner(command, mode, flags, context);
  const bundle = await prepared.signer.signDsse(payload.payloadType, payload.bytes, context.signal);
  await prepared.check?.(bundle, undefined);
  const envelope = bundle.dsseEnvelope as {
    payloadType: string;
    payload: string;
    signatures: { sig: string; keyid?: string }[];
  };
  const envelopeText = JSON.stringify({
    payloadType: envelope.payloadType,
    payload: envelope.payload,
    signatures: envelope.signatures.map((s) => ({ keyid: s.keyid ?? '', sig: s.sig })),
  });
  return {
    bundle: bundle as unknown as Record<string, unknown>,
    envelopeText,
    notes: [...prepared.notes, ...tlogNotes(bundle)],
    ...(prepared.identity ? { identity: prepared.identity } : {}),
  };
}

function tlogSummary(bundle: {
  verificationMaterial?: { tlogEntries?: { logIndex?: string }[] };
}): { logIndex: string }[] {
  return (bundle.verificationMaterial?.tlogEntries ?? []).map((e) => ({ logIndex: String(e.logIndex) }));
}

function tlogNotes(bundle: { verificationMaterial?: { tlogEntries?: { logIndex?: string }[] } }): string[] {
  return tlogSummary(bundle).map((e) => `tlog entry created with index: ${e.logIndex}`);
}
