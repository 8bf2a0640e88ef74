import { createHash, hash as oneShotHash } from 'node:crypto';
import {
  CosignkitError,
  silentLogger,
  type Logger,
  type SignatureCheck,
  type TimestampCheck,
  type TlogEntryCheck,
  type VerificationFailure,
  type VerificationResult,
} from '@cosignkit/core';
import type { Bundle } from '@sigstore/bundle';
import { EXTENSION_OID_SCT, crypto as sigstoreCrypto, X509Certificate } from '@sigstore/core';
import { HashAlgorithm, PublicKeyDetails, type TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial, type SignedEntity, type TrustMaterial } from '@sigstore/verify';
import { fulcioExtensions, subjectAlternativeNames } from '../policy/fulcio-extensions.js';
import { evaluateIdentityPolicy, type IdentityPolicy } from '../policy/identity-policy.js';
import type { TrustedRootOrigin } from '../trust/trusted-root-source.js';
import { installCertificateSigners } from './certificate-signers.js';
import { installChainPaths } from './chain-paths.js';
import { DigestSignatureContent } from './digest-signature-content.js';
import { accelerateCertificate, parsedCertificate } from './fast-certificates.js';
import { parseBundle } from './parse-bundle.js';
import { installOneShotDigest } from './one-shot-digest.js';
import { parsedTimestamp } from './parsed-timestamps.js';
import { installPublicKeyCache } from './public-key-cache.js';
import { installSctResults } from './sct-results.js';
import { partitionTimestamps } from './signed-timestamps.js';

/** What is known of the artifact: its bytes, or only its digest (`sha256:<hex>`, or a file hashed as a stream). */
export type ArtifactInput =
  | { bytes: Buffer; path?: string }
  | { digest: { algorithm: 'sha256' | 'sha384' | 'sha512'; value: Buffer }; path?: string };

export interface VerifyBundleOptions {
  trustedRoot: TrustedRoot;
  /** Reported in the result; say where the root came from. */
  trustedRootOrigin?: TrustedRootOrigin;
  /** Required for keyless bundles (as cosign): compile it with compileIdentityPolicy. */
  policy: IdentityPolicy;
  /** The signed artifact. Required for message signatures; for DSSE, when given, an in-toto subject must match it. */
  artifact?: ArtifactInput;
  /** `--insecure-ignore-tlog`: no log entry required, none checked, their times not used. */
  insecureIgnoreTlog?: boolean;
  /** `--insecure-ignore-sct`: no embedded SCT required. */
  insecureIgnoreSct?: boolean;
  /** `--use-signed-timestamps`: at least one verified RFC 3161 timestamp required. */
  useSignedTimestamps?: boolean;
  logger?: Logger;
}

/** The result of a keyless verification: core's VerificationResult plus what was verified and against what. */
export interface KeylessVerification extends VerificationResult {
  trustedRoot?: TrustedRootOrigin;
  bundle?: { mediaType: string; content: 'message-signature' | 'dsse' };
  /** For DSSE bundles: the envelope's payload type and payload, for the caller's statement checks. */
  envelope?: { payloadType: string; payload: Buffer };
  /** Things ignored on the way (unverifiable extra timestamps), also sent to the logger. */
  warnings: string[];
}

const trustCache = new WeakMap<TrustedRoot, TrustMaterial>();

/**
 * Trust material is built once per root object. Its certificates are parsed on first use, each CA's chain
 * when a check first reads it: the library filters CAs by their `validFor` dates (from the root's JSON)
 * before it reads a chain, so a one-shot verification parses only the CA in force and, when the bundle has
 * an RFC 3161 timestamp, the TSAs. A root whose certificate cannot be parsed fails the check that reads it.
 */
function trustMaterialOf(root: TrustedRoot): TrustMaterial {
  let material = trustCache.get(root);
  if (!material) {
    // The library builds every authority (validity defaults, log keys); the chains are left empty here and
    // filled on first read with the root's own certificates, parsed and accelerated as trusted.
    const withoutChains = (cas: TrustedRoot['certificateAuthorities']) =>
      cas.map((ca) => ({ ...ca, certChain: { certificates: [] } }));
    material = toTrustMaterial({
      ...root,
      certificateAuthorities: withoutChains(root.certificateAuthorities),
      timestampAuthorities: withoutChains(root.timestampAuthorities),
      tlogs: [],
      ctlogs: [],
    });
    material.tlogs.push(...root.tlogs.map(lazyLogAuthority));
    material.ctlogs.push(...root.ctlogs.map(lazyLogAuthority));
    const built = material;
    root.certificateAuthorities.forEach((ca, i) => {
      lazyChain(built.certificateAuthorities[i]!, ca);
    });
    root.timestampAuthorities.forEach((ca, i) => {
      lazyChain(built.timestampAuthorities[i]!, ca);
    });
    trustCache.set(root, material);
  }
  return material;
}

function lazyChain(
  authority: TrustMaterial['certificateAuthorities'][number],
  source: TrustedRoot['certificateAuthorities'][number],
): void {
  let chain: X509Certificate[] | undefined;
  Object.defineProperty(authority, 'certChain', {
    configurable: true,
    enumerable: true,
    get() {
      chain ??= (source.certChain?.certificates ?? []).map((c) => {
        const der = Buffer.from(c.rawBytes);
        return accelerateCertificate(X509Certificate.parse(der), { trusted: true, der });
      });
      return chain;
    },
  });
}

const PKCS1_KEYS = new Set([
  PublicKeyDetails.PKCS1_RSA_PKCS1V5,
  PublicKeyDetails.PKIX_RSA_PKCS1V5,
  PublicKeyDetails.PKIX_RSA_PKCS1V15_2048_SHA256,
  PublicKeyDetails.PKIX_RSA_PKCS1V15_3072_SHA256,
  PublicKeyDetails.PKIX_RSA_PKCS1V15_4096_SHA256,
]);

/**
 * A transparency or CT log of the root as @sigstore/verify's toTrustMaterial builds it (`createTLogAuthority`:
 * the checkpoint key id when there is one, the key's validity with open ends), except that its key is imported
 * on first use: a root lists every log the instance ever had, a bundle uses one or two of them, and a one-shot
 * verify-blob would otherwise import them all. Same bytes, same key type, same KeyObject once read.
 */
function lazyLogAuthority(log: TrustedRoot['tlogs'][number]): TrustMaterial['tlogs'][number] {
  const keyType = PKCS1_KEYS.has(log.publicKey?.keyDetails as PublicKeyDetails) ? 'pkcs1' : 'spki';
  let key: ReturnType<typeof sigstoreCrypto.createPublicKey> | undefined;
  return {
    baseURL: log.baseUrl,
    logID: log.checkpointKeyId ? log.checkpointKeyId.keyId : log.logId!.keyId,
    get publicKey() {
      key ??= sigstoreCrypto.createPublicKey(log.publicKey!.rawBytes as Buffer, keyType);
      return key;
    },
    validFor: {
      start: log.publicKey?.validFor?.start || BEGINNING_OF_TIME,
      end: log.publicKey?.validFor?.end || END_OF_TIME,
    },
  };
}
const BEGINNING_OF_TIME = new Date(0);
const END_OF_TIME = new Date(8.64e15);

const HASH_NAMES: Partial<Record<HashAlgorithm, 'sha256' | 'sha384' | 'sha512'>> = {
  [HashAlgorithm.SHA2_256]: 'sha256',
  [HashAlgorithm.SHA2_384]: 'sha384',
  [HashAlgorithm.SHA2_512]: 'sha512',
};

/**
 * Verifies a keyless Sigstore bundle (its parsed JSON) with @sigstore/verify, plus what that library leaves
 * out or gets wrong (see the README's table): the message digest against the artifact, cosign's exact and
 * Go-regexp identity policy, the GitHub workflow extensions, and timestamps counted as cosign counts them.
 * Returns `verified: false` with one failure per unmet check (exit 2); throws BUNDLE_MALFORMED for a bundle
 * that cannot be read and USAGE for a missing artifact.
 */
export function verifyBundle(bundleJson: unknown, options: VerifyBundleOptions): KeylessVerification {
  const logger = options.logger ?? silentLogger;
  const artifact = options.artifact;
  const sha256 = artifact === undefined ? undefined : artifactDigest(artifact, 'sha256');
  const bundle = parseBundle(bundleJson, sha256);
  const content = bundle.content.$case === 'messageSignature' ? 'message-signature' : 'dsse';
  const warnings: string[] = [];
  const failures: VerificationFailure[] = [];
  const fail = (message: string) => failures.push({ code: 'VERIFICATION_FAILED', message });

  if (bundle.verificationMaterial.content.$case === 'publicKey') {
    throw new CosignkitError('NOT_SUPPORTED', 'the bundle names a public key, not a certificate: verify it with --key');
  }
  if (content === 'message-signature' && artifact === undefined) {
    throw new CosignkitError('USAGE', 'a message-signature bundle needs the artifact (a file or sha256:<hex>)');
  }

  installPublicKeyCache();
  installOneShotDigest();
  installSctResults();
  installCertificateSigners();
  installChainPaths();
  let entity: SignedEntity;
  try {
    // toSignedEntity parses the leaf certificate and every RFC 3161 timestamp on every call; it is handed the
    // bundle without them, and they come from the parsed caches instead (same bytes, same checks, one parse
    // per distinct leaf or timestamp), in the order it would give (log entries' times, then the tokens').
    const der = leafDer(bundle);
    const stamps = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? [];
    const artifactBytes = artifact !== undefined && 'bytes' in artifact ? artifact.bytes : undefined;
    entity = toSignedEntity(withoutParsedParts(bundle, der !== undefined), artifactBytes);
    if (der) entity = { ...entity, key: { $case: 'certificate', certificate: parsedCertificate(der) } };
    if (stamps.length > 0) {
      entity = {
        ...entity,
        timestamps: [
          ...entity.timestamps,
          ...stamps.map((ts) => ({
            $case: 'timestamp-authority' as const,
            timestamp: parsedTimestamp(ts.signedTimestamp),
          })),
        ],
      };
    }
  } catch (error) {
    throw new CosignkitError(
      'BUNDLE_MALFORMED',
      `the bundle's certificate or timestamps cannot be read: ${oneLine(error)}`,
      { cause: error },
    );
  }

  // @sigstore/verify never compares messageDigest with the artifact (sigstore-go does): a bundle may claim
  // any digest while its signature covers the artifact, or the other way round.
  let envelope: KeylessVerification['envelope'];
  if (bundle.content.$case === 'messageSignature') {
    const { messageDigest, signature } = bundle.content.messageSignature;
    const algorithm = HASH_NAMES[messageDigest?.algorithm ?? HashAlgorithm.SHA2_256];
    if (algorithm === undefined) {
      fail(`the bundle's message digest algorithm ${messageDigest?.algorithm} is not SHA-2`);
    } else {
      const actual = algorithm === 'sha256' && sha256 ? sha256 : artifactDigest(artifact!, algorithm);
      if (!messageDigest || !actual.equals(messageDigest.digest)) {
        fail(
          `the bundle's messageDigest (${algorithm}:${messageDigest ? Buffer.from(messageDigest.digest).toString('hex') : 'none'}) is not the artifact's (${algorithm}:${actual.toString('hex')})`,
        );
      }
      if (!('bytes' in artifact!)) entity = { ...entity, signature: new DigestSignatureContent(signature, actual) };
    }
  } else {
    const dsse = bundle.content.dsseEnvelope;
    envelope = { payloadType: dsse.payloadType, payload: Buffer.from(dsse.payload) };
    if (artifact !== undefined) {
      const problem = subjectProblem(envelope, artifact);
      if (problem) fail(problem);
    }
  }

  const trust = trustMaterialOf(options.trustedRoot);
  let timestamps = entity.timestamps;
  if (options.insecureIgnoreTlog) {
    timestamps = timestamps.filter((t) => t.$case !== 'transparency-log');
    entity = { ...entity, tlogEntries: [] };
  }

  const cert = entity.key.$case === 'certificate' ? entity.key.certificate : undefined;
  if (cert && options.insecureIgnoreSct)
    entity = { ...entity, key: { $case: 'certificate', certificate: withoutSctCheck(cert) } };
  const certificate = cert ? signerIdentityOf(cert) : undefined;

  const verifier = new Verifier(trust, {
    tlogThreshold: options.insecureIgnoreTlog ? 0 : 1,
    ctlogThreshold: options.insecureIgnoreSct ? 0 : 1,
    timestampThreshold: 1,
  });
  if (options.insecureIgnoreTlog && !timestamps.some((t) => t.$case === 'timestamp-authority')) {
    // cosign with --insecure-ignore-tlog and no signed timestamp checks the certificate at the current time
    // (pkg/cosign/verify.go: no verified time, CheckExpiry(cert, time.Now())). @sigstore/verify has no such
    // mode: without a timestamp it would demand one (threshold 1) or check the chain at no time at all
    // (threshold 0), so its timestamp step answers "now" here, and the chain is checked at that instant.
    (verifier as unknown as { verifyTimestamps: () => Date[] }).verifyTimestamps = () => [new Date()];
  }
  const attempt = (): unknown => {
    try {
      verifier.verify({ ...entity, timestamps });
      return undefined;
    } catch (error) {
      return error;
    }
  };
  let verifyError = attempt();
  // A timestamp failed: only then are the RFC 3161 timestamps told apart one by one (signed-timestamps.ts
  // says why the ones that do not verify are dropped), so the common case verifies each timestamp once.
  if (codeOf(verifyError) === 'TIMESTAMP_ERROR' && timestamps.some((t) => t.$case === 'timestamp-authority')) {
    const { kept, dropped } = partitionTimestamps(timestamps, entity.signature.signature, trust);
    if (dropped.length > 0) {
      for (const line of dropped) {
        warnings.push(line);
        logger.warn(line);
      }
      timestamps = kept;
      verifyError = attempt();
    }
  }
  if (verifyError !== undefined) fail(describeVerifierError(codeOf(verifyError), verifyError, cert, timestamps));
  if (options.useSignedTimestamps && !timestamps.some((t) => t.$case === 'timestamp-authority')) {
    fail('--use-signed-timestamps: the bundle has no RFC 3161 timestamp that verifies against the trusted TSAs');
  }

  if (certificate) {
    for (const line of evaluateIdentityPolicy(options.policy, {
      subjectAlternativeNames: certificate.subjectAlternativeNames!,
      extensions: certificate.extensions!,
    })) {
      fail(line);
    }
  }

  const tlogEntries: TlogEntryCheck[] = entity.tlogEntries.map((entry) => ({
    logId: Buffer.from(entry.logId.keyId).toString('hex'),
    logIndex: Number(entry.logIndex),
    ...(entry.integratedTime && entry.integratedTime !== '0'
      ? { integratedTime: new Date(Number(entry.integratedTime) * 1000) }
      : {}),
    kind: entry.kindVersion.kind,
    version: entry.kindVersion.version,
  }));
  const times: TimestampCheck[] = timestamps.map((t) =>
    t.$case === 'timestamp-authority'
      ? { source: 'timestamp-authority', time: new Date(t.timestamp.signingTime.getTime()) }
      : { source: 'transparency-log', time: new Date(Number(t.tlogEntry.integratedTime) * 1000) },
  );
  const first = tlogEntries[0];
  const check: SignatureCheck = {
    verified: failures.length === 0,
    ...(certificate ? { certificate } : {}),
    ...(first
      ? { logIndex: first.logIndex, ...(first.integratedTime ? { integratedTime: first.integratedTime } : {}) }
      : {}),
    tlogEntries,
    timestamps: times,
  };
  return {
    verified: failures.length === 0,
    engine: 'native',
    artifact: {
      ...(artifact?.path !== undefined ? { path: artifact.path } : {}),
      digest: { algorithm: 'sha256', hex: sha256 ? sha256.toString('hex') : '' },
    },
    signatures: [check],
    failures,
    ...(options.trustedRootOrigin ? { trustedRoot: options.trustedRootOrigin } : {}),
    bundle: { mediaType: bundle.mediaType, content },
    ...(envelope ? { envelope } : {}),
    warnings,
  };
}

const identities = new WeakMap<X509Certificate, NonNullable<SignatureCheck['certificate']>>();

/**
 * The signer as the result reports it, read once per certificate object (a leaf from the parsed-certificate
 * cache is the same object each time its bytes come back). A fresh copy each call: callers may change it.
 */
function signerIdentityOf(cert: X509Certificate): NonNullable<SignatureCheck['certificate']> {
  let identity = identities.get(cert);
  if (!identity) {
    const sans = subjectAlternativeNames(cert);
    const extensions = fulcioExtensions(cert);
    identity = {
      identity: sans[0] ?? '',
      issuer: extensions.issuer ?? '',
      subjectAlternativeNames: sans,
      extensions: extensions as Record<string, string>,
    };
    identities.set(cert, identity);
  }
  return {
    ...identity,
    subjectAlternativeNames: [...identity.subjectAlternativeNames!],
    extensions: { ...identity.extensions },
  };
}

/**
 * `--insecure-ignore-sct`: @sigstore/verify checks every embedded SCT whatever the threshold, and reads them
 * from `cert.clone()` (it strips the SCT extension from the clone to rebuild the precertificate). A
 * certificate whose clone() comes without that extension makes the SCT step find none; the chain and the
 * signature are still checked on the real, unmodified certificate.
 */
function withoutSctCheck(cert: X509Certificate): X509Certificate {
  const der = cert.root.toDER();
  const patched = accelerateCertificate(X509Certificate.parse(Buffer.from(der)), { der });
  patched.clone = () => {
    const copy = X509Certificate.parse(Buffer.from(der)); // a fresh parse: the splice must not touch `cert`
    const index = copy.extensions.findIndex((ext) => ext.subs[0]?.toOID() === EXTENSION_OID_SCT);
    if (index !== -1) copy.extensions.splice(index, 1);
    return copy;
  };
  return patched;
}

/**
 * The bundle without its RFC 3161 timestamps and, when `leaf`, with its certificate replaced by an empty key
 * hint: toSignedEntity then parses neither.
 */
function withoutParsedParts(bundle: Bundle, leaf: boolean): Bundle {
  const material = bundle.verificationMaterial;
  return {
    ...bundle,
    verificationMaterial: {
      ...material,
      ...(leaf ? { content: { $case: 'publicKey', publicKey: { hint: '' } } } : {}),
      timestampVerificationData: undefined,
    },
  } as Bundle;
}

function leafDer(bundle: Bundle): Buffer | undefined {
  const material = bundle.verificationMaterial.content;
  if (material.$case === 'certificate') return Buffer.from(material.certificate.rawBytes);
  if (material.$case === 'x509CertificateChain') {
    const first = material.x509CertificateChain.certificates[0];
    return first ? Buffer.from(first.rawBytes) : undefined;
  }
  return undefined;
}

function artifactDigest(artifact: ArtifactInput, algorithm: 'sha256' | 'sha384' | 'sha512'): Buffer {
  if ('bytes' in artifact) return oneShotHash(algorithm, artifact.bytes, 'buffer');
  if (artifact.digest.algorithm !== algorithm) {
    throw new CosignkitError(
      'USAGE',
      `the bundle's digest is ${algorithm}, the artifact was given as ${artifact.digest.algorithm}`,
    );
  }
  return artifact.digest.value;
}

/**
 * sigstore-go's check for a DSSE bundle verified against an artifact: an in-toto subject with the artifact's
 * digest (sha256, or sha512 when the bytes are at hand: npm's provenance names subjects by sha512 only).
 */
function subjectProblem(
  envelope: { payloadType: string; payload: Buffer },
  artifact: ArtifactInput,
): string | undefined {
  if (envelope.payloadType !== 'application/vnd.in-toto+json') {
    return `the envelope's payloadType is ${envelope.payloadType}, not an in-toto statement naming the artifact`;
  }
  let statement: { subject?: Array<{ digest?: Record<string, unknown> }> };
  try {
    statement = JSON.parse(envelope.payload.toString('utf8')) as typeof statement;
  } catch {
    return 'the envelope payload is not JSON';
  }
  const wanted: Array<['sha256' | 'sha512', string]> = [['sha256', artifactDigest(artifact, 'sha256').toString('hex')]];
  if ('bytes' in artifact) wanted.push(['sha512', createHash('sha512').update(artifact.bytes).digest('hex')]);
  const subjects = Array.isArray(statement.subject) ? statement.subject : [];
  const found = subjects.some((s) =>
    wanted.some(([algorithm, hex]) => {
      const value = s?.digest?.[algorithm];
      return typeof value === 'string' && value.toLowerCase() === hex;
    }),
  );
  return found ? undefined : `no in-toto subject has the artifact's digest (sha256:${wanted[0]![1]})`;
}

function describeVerifierError(
  code: string | undefined,
  error: unknown,
  cert: X509Certificate | undefined,
  timestamps: SignedEntity['timestamps'],
): string {
  const message = oneLine(error);
  if (code === 'CERTIFICATE_ERROR' && cert && /chain|expired|not valid|validity/i.test(message)) {
    const times = timestamps.map((t) =>
      t.$case === 'timestamp-authority' ? t.timestamp.signingTime : new Date(Number(t.tlogEntry.integratedTime) * 1000),
    );
    const outside = times.filter((t) => t < cert.notBefore || t > cert.notAfter);
    if (outside.length > 0) {
      return `certificate: valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}, not at ${outside.map((t) => t.toISOString()).join(', ')} [CERTIFICATE_ERROR]`;
    }
  }
  return `${message}${code ? ` [${code}]` : ''}`;
}

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string } | undefined)?.code;
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300);
}

export type { Bundle };
