import {
  createHash,
  createVerify,
  hash,
  verify as verifyWhole,
  type Hash,
  type KeyObject,
  type Verify,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { SignatureCheck, VerificationFailure, VerificationResult } from '@cosignkit/core';
import { assertReadableFile, fileError } from '@cosignkit/core';
import { CosignkitError } from '@cosignkit/core';
import { ALGORITHMS, algorithmOfKey, fingerprintOf, type HashAlgorithm } from '@cosignkit/core';
import { throwIfAborted } from '@cosignkit/core';
import { readBundle, type BundleSignature } from '@cosignkit/core';
import { readSignatureFile } from '@cosignkit/core';
import { smallFileOrStream } from '@cosignkit/core';

export interface NativeVerifyBlobOptions {
  publicKey: KeyObject;
  /** A file holding a base64 (cosign's output) or raw signature. */
  signature?: string;
  /** A Sigstore bundle (v0.1–v0.3) or cosign's legacy `{"base64Signature": …}` bundle. */
  bundle?: string;
  signal?: AbortSignal;
}

interface Claim {
  source: string;
  signature: Buffer;
  messageDigest?: BundleSignature['messageDigest'];
  certificateKey?: KeyObject;
}

/**
 * Verifies a blob signature with a public key, in-process, with node:crypto only (no transparency log, like
 * `cosign verify-blob --insecure-ignore-tlog`). A signature that does not match is a result, not a throw;
 * input that cannot be parsed throws (SIGNATURE_MALFORMED, BUNDLE_MALFORMED, FILE_NOT_FOUND…).
 */
export async function nativeVerifyBlob(file: string, options: NativeVerifyBlobOptions): Promise<VerificationResult> {
  const { publicKey, signal } = options;
  if (!options.signature && !options.bundle) {
    throw new CosignkitError('USAGE', 'nothing to verify: give a signature or a bundle');
  }
  await assertReadableFile(file);
  const algorithm = algorithmOfKey(publicKey);
  const claims: Claim[] = [];
  if (options.signature) {
    claims.push({ source: options.signature, signature: await readSignatureFile(options.signature, algorithm) });
  }
  if (options.bundle) {
    const bundle = await readBundle(options.bundle, algorithm);
    claims.push({
      source: options.bundle,
      signature: bundle.signature,
      messageDigest: bundle.messageDigest,
      ...(bundle.certificateKey ? { certificateKey: bundle.certificateKey } : {}),
    });
  }
  throwIfAborted(signal);

  const primary: HashAlgorithm =
    claims.find((c) => c.messageDigest)?.messageDigest?.algorithm ??
    (algorithm === 'ed25519' ? 'sha256' : ALGORITHMS[algorithm].hash);
  const wanted = new Set<HashAlgorithm>([
    primary,
    ...claims.flatMap((c) => (c.messageDigest ? [c.messageDigest.algorithm] : [])),
  ]);
  let digests: (algorithm: HashAlgorithm) => Buffer;
  let outcomes: boolean[];
  if (algorithm === 'ed25519') {
    // Ed25519 is a pure signature over the whole message: verifying needs the file in memory.
    let message: Buffer;
    try {
      message = await readFile(file, { signal });
    } catch (error) {
      throw (error as Error).name === 'AbortError'
        ? new CosignkitError('ABORTED', 'the operation was aborted', { cause: error })
        : fileError(file, error);
    }
    digests = lazyDigests((a) => hash(a, message, 'buffer'));
    outcomes = claims.map((c) => safeVerify(() => verifyWhole(null, message, publicKey, c.signature), c.source));
  } else {
    // One pass over the file: a small one whole, hashed and verified with one call each; a larger one
    // streamed to the digests and every candidate verifier (node:crypto cannot verify a precomputed digest).
    // P-384 signatures made with SHA-256 (older signers) are accepted too.
    // Made only for a file that is streamed.
    let hashes: Hash[] = [];
    let verifiers: Verify[][] = [];
    const whole = await smallFileOrStream(
      file,
      () => {
        hashes = [...wanted].map((a) => createHash(a));
        verifiers = claims.map((c) => candidateHashes(algorithm, c).map((h) => createVerify(h)));
        return [...hashes, ...verifiers.flat()];
      },
      signal,
    );
    if (whole !== undefined) {
      digests = lazyDigests((a) => hash(a, whole, 'buffer'));
      outcomes = claims.map((c) =>
        candidateHashes(algorithm, c).some((h) =>
          safeVerify(() => verifyWhole(h, whole, publicKey, c.signature), c.source),
        ),
      );
    } else {
      const made = new Map([...wanted].map((a, i) => [a, hashes[i]!.digest()]));
      digests = (a) => made.get(a)!;
      outcomes = claims.map((c, i) =>
        verifiers[i]!.some((v) => safeVerify(() => v.verify(publicKey, c.signature), c.source)),
      );
    }
  }

  // The key's fingerprint is worked out when first read: a plain one-shot run prints "Verified OK" and never
  // reads it, and the key's first export costs it start-up time (issue 19); --json and library callers read it.
  const signatureCheck = (verified: boolean): SignatureCheck =>
    Object.defineProperty({ verified }, 'keyFingerprint', {
      enumerable: true,
      get: () => fingerprintOf(publicKey),
    });
  const signatures: SignatureCheck[] = [];
  const failures: VerificationFailure[] = [];
  claims.forEach((claim, i) => {
    let verified = outcomes[i]!;
    if (claim.messageDigest && !digests(claim.messageDigest.algorithm).equals(claim.messageDigest.digest)) {
      verified = false;
      failures.push({
        code: 'VERIFICATION_FAILED',
        message: `${claim.source}: the bundle's message digest does not match the artifact`,
      });
    } else if (claim.certificateKey && !claim.certificateKey.equals(publicKey)) {
      // cosign verifies a legacy bundle against its own cert: one naming another key is not this key's.
      verified = false;
      failures.push({
        code: 'VERIFICATION_FAILED',
        message: `${claim.source}: the bundle's cert is another key than the one given`,
      });
    } else if (!verified) {
      failures.push({
        code: 'VERIFICATION_FAILED',
        message: `${claim.source}: the signature does not match the artifact and key`,
      });
    }
    signatures.push(signatureCheck(verified));
  });
  return {
    verified: failures.length === 0 && signatures.every((s) => s.verified),
    engine: 'native',
    // Like the fingerprint, worked out when first read (--json, library callers): hashing a file already in
    // memory is one more first call into OpenSSL that a plain "Verified OK" does without.
    artifact: {
      path: file,
      digest: {
        algorithm: primary,
        get hex() {
          return digests(primary).toString('hex');
        },
      },
    },
    signatures,
    failures,
  };
}

/** The file's digests, each made on first use (the file is in memory), once. */
function lazyDigests(digest: (algorithm: HashAlgorithm) => Buffer): (algorithm: HashAlgorithm) => Buffer {
  const made = new Map<HashAlgorithm, Buffer>();
  return (algorithm) => {
    let value = made.get(algorithm);
    if (value === undefined) {
      value = digest(algorithm);
      made.set(algorithm, value);
    }
    return value;
  };
}

function candidateHashes(
  algorithm: Exclude<ReturnType<typeof algorithmOfKey>, 'ed25519'>,
  claim: Claim,
): HashAlgorithm[] {
  if (claim.messageDigest) return [claim.messageDigest.algorithm];
  const own = ALGORITHMS[algorithm].hash;
  return own === 'sha256' ? [own] : [own, 'sha256'];
}

function safeVerify(check: () => boolean, source: string): boolean {
  try {
    return check();
  } catch (error) {
    throw new CosignkitError('SIGNATURE_MALFORMED', `${source}: the signature cannot be decoded`, { cause: error });
  }
}
