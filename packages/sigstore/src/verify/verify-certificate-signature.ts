import { createHash } from 'node:crypto';
import { CosignkitError } from '@cosignkit/core';
import { parseJsonText, readLimitedFile } from '../io/read-limited-file.js';
import { cosignLegacyBundle } from './cosign-legacy-bundle.js';
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
 * the pieces become one v0.1 bundle and are verified as every bundle is. cosign looks the signature up in
 * Rekor when neither a bundle nor --insecure-ignore-tlog is given; cosignkit verifies offline, so it asks
 * for one of them instead (USAGE) rather than going to the network or passing without a log.
 */
export async function verifyCertificateSignature(
  files: CertificateSignatureFiles,
  artifactPathOrDigest: string,
  options: Omit<VerifyBundleOptions, 'artifact'> & { signal?: AbortSignal },
): Promise<KeylessVerification> {
  if (files.bundle === undefined && !options.insecureIgnoreTlog) {
    throw new CosignkitError(
      'USAGE',
      '--certificate with --signature needs the log entry: pass --bundle <cosign bundle with its rekorBundle> (cosign would look it up in Rekor online), or --insecure-ignore-tlog',
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
