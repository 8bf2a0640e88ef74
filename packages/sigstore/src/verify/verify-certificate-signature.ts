import { createHash } from 'node:crypto';
import { CosignkitError } from '@cosignkit/core';
import { parseJsonText, readLimitedFile } from '../io/read-limited-file.js';
import { cosignLegacyBundle, leafCertificateDer } from './cosign-legacy-bundle.js';
import { findRekorEntry } from './rekor-lookup.js';
import { BUNDLE_SIZE_LIMIT, readArtifact } from './verify-bundle-file.js';
import { verifyBundle, type KeylessVerification, type VerifyBundleOptions } from './verify-bundle.js';

/** A certificate, a chain or a signature file is a few KiB. */
const PIECE_SIZE_LIMIT = 1024 * 1024;

/** cosign's pre-bundle keyless blob verification: `--certificate C [--certificate-chain CH] --signature S`. */
export interface CertificateSignatureFiles {
  certificate: string;
  certificateChain?: string;
  signature: string;
  /** A cosign legacy bundle whose `rekorBundle` (SET) is the log entry: the offline form of the Rekor lookup. */
  bundle?: string;
  /** `--rfc3161-timestamp`: cosign's `{"SignedRFC3161Timestamp": …}` file. */
  rfc3161Timestamp?: string;
}

/**
 * `verify-blob --certificate C --signature S [--bundle legacy.json | --insecure-ignore-tlog] FILE`, as cosign:
 * the pieces become one v0.1 bundle and are verified as every bundle is. With neither a bundle nor
 * --insecure-ignore-tlog the log entry is looked up in Rekor online, as cosign does (`rekorUrl`, else the
 * trusted root's v1 log); `offline` refuses that (USAGE) rather than passing without a log.
 */
export async function verifyCertificateSignature(
  files: CertificateSignatureFiles,
  artifactPathOrDigest: string,
  options: Omit<VerifyBundleOptions, 'artifact'> & { signal?: AbortSignal; rekorUrl?: string; offline?: boolean },
): Promise<KeylessVerification> {
  const lookUp = files.bundle === undefined && !options.insecureIgnoreTlog;
  if (lookUp && options.offline) {
    throw new CosignkitError(
      'USAGE',
      '--certificate with --signature needs the log entry, which --offline cannot look up in Rekor: pass --bundle <cosign bundle with its rekorBundle>, or --insecure-ignore-tlog',
    );
  }
  const text = async (path: string, what: string) =>
    (await readLimitedFile(path, PIECE_SIZE_LIMIT, what)).toString('utf8');
  const certificate = await text(files.certificate, 'certificate');
  const chain =
    files.certificateChain === undefined ? undefined : await text(files.certificateChain, 'certificate chain');
  const signature = decodeSignature(await readLimitedFile(files.signature, PIECE_SIZE_LIMIT, 'signature'));
  let rekorBundle: unknown;
  if (files.bundle !== undefined) {
    const json = parseJsonText(
      await readLimitedFile(files.bundle, BUNDLE_SIZE_LIMIT, 'bundle'),
      `bundle ${files.bundle}`,
    );
    rekorBundle = (json as { rekorBundle?: unknown } | null)?.rekorBundle;
    if (typeof json !== 'object' || json === null || rekorBundle === undefined || rekorBundle === null) {
      throw new CosignkitError(
        'BUNDLE_MALFORMED',
        `bundle ${files.bundle}: with --certificate, --bundle is cosign's legacy bundle and needs its rekorBundle`,
      );
    }
  }
  const rfc3161Timestamp =
    files.rfc3161Timestamp === undefined
      ? undefined
      : parseJsonText(await readLimitedFile(files.rfc3161Timestamp, PIECE_SIZE_LIMIT, 'timestamp'), 'timestamp');
  const artifact = await readArtifact(artifactPathOrDigest, options.signal);
  if (!('bytes' in artifact) && artifact.digest.algorithm !== 'sha256') {
    throw new CosignkitError('USAGE', 'a certificate signature is verified over the artifact: give sha256:<hex>');
  }
  const sha256 = 'bytes' in artifact ? createHash('sha256').update(artifact.bytes).digest() : artifact.digest.value;
  if (lookUp) {
    rekorBundle = await findRekorEntry({
      rekorUrl: options.rekorUrl ?? lookupLogOf(options.trustedRoot),
      sha256,
      signature,
      certificate: leafCertificateDer(certificate),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
  const bundle = cosignLegacyBundle({
    certificate,
    ...(chain !== undefined ? { chain } : {}),
    content: { kind: 'message', sha256, signature },
    ...(rekorBundle !== undefined ? { rekorBundle } : {}),
    ...(rfc3161Timestamp !== undefined ? { rfc3161Timestamp } : {}),
  });
  return verifyBundle(bundle, { ...options, artifact });
}

/** cosign writes signatures in base64; a raw DER signature is accepted too. */
function decodeSignature(bytes: Buffer): Buffer {
  const text = bytes.toString('latin1').trim();
  if (/^[A-Za-z0-9+/]+=*$/.test(text) && text.length % 4 === 0) return Buffer.from(text, 'base64');
  if (bytes[0] === 0x30) return bytes;
  throw new CosignkitError('SIGNATURE_MALFORMED', 'the signature file is neither base64 nor a DER signature');
}

/** The v1 logs of the public-good and staging instances, which the trusted roots also list beside v2 shards. */
const V1_LOGS = ['https://rekor.sigstore.dev', 'https://rekor.sigstage.dev'];

/** Where to look an entry up without --rekor-url: the root's v1 log, else the first log it names. */
function lookupLogOf(root: VerifyBundleOptions['trustedRoot']): string {
  const urls = root.tlogs.map((t) => t.baseUrl).filter((u): u is string => typeof u === 'string' && u !== '');
  const url = urls.find((u) => V1_LOGS.includes(u.replace(/\/+$/, ''))) ?? urls[0];
  if (url === undefined)
    throw new CosignkitError('USAGE', 'the trusted root names no log to look the entry up in: pass --rekor-url');
  return url;
}
