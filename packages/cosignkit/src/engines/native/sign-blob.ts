import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { KeyManager } from '@cosignkit/core';
import type { Digest, SignBlobResult } from '@cosignkit/core';
import { assertReadableFile, digestFile, fileError } from '@cosignkit/core';
import { CosignkitError, toCosignkitError } from '@cosignkit/core';
import { spkiDer, type HashAlgorithm } from '@cosignkit/core';
import { throwIfAborted } from '@cosignkit/core';
import { commitOutputs, type PendingOutput } from '@cosignkit/core';
import { keyBundleJson } from './bundle-json.js';

export interface NativeSignBlobOptions {
  manager: KeyManager;
  keyId: string;
  /** Where to write the base64 signature (as cosign's `--output-signature`). */
  outputSignature?: string;
  /** Where to write a v0.3 Sigstore bundle (as cosign's `--new-bundle-format --bundle`). */
  bundle?: string;
  /** A SHA-256 digest computed elsewhere: signed as is, `file` is not read. */
  digest?: Digest;
  signal?: AbortSignal;
}

/** Signs a file in-process with a KeyManager: what `cosign sign-blob --key … --tlog-upload=false` produces. */
export async function nativeSignBlob(file: string, options: NativeSignBlobOptions): Promise<SignBlobResult> {
  const { manager, keyId, signal } = options;
  if (options.digest === undefined) await assertReadableFile(file);
  const algorithm = await backendCall(() => manager.getAlgorithm(keyId));

  let digestAlgorithm: HashAlgorithm;
  let digest: Buffer;
  let signature: Uint8Array;
  if (options.digest !== undefined) {
    if (options.digest.algorithm !== 'sha256' || !/^[0-9a-f]{64}$/.test(options.digest.hex))
      throw new CosignkitError('USAGE', 'a digest to sign is sha256:<64 lower-case hex>');
    // Ed25519 signs the message itself: a digest alone is not enough to make a signature cosign verifies.
    if (algorithm === 'ed25519')
      throw new CosignkitError('NOT_SUPPORTED', 'an Ed25519 key signs the file itself, not a digest: pass the file');
    digestAlgorithm = 'sha256';
    digest = Buffer.from(options.digest.hex, 'hex');
    signature = await backendCall(() => manager.signDigest(keyId, digest, { signal }));
  } else if (algorithm === 'ed25519') {
    if (!manager.signMessage) {
      throw new CosignkitError(
        'NOT_SUPPORTED',
        `the ${manager.backend} backend cannot sign messages with Ed25519 keys`,
      );
    }
    // Ed25519 is a pure signature over the whole message: the file has to be in memory, unlike ECDSA.
    let message: Buffer;
    try {
      message = await readFile(file, { signal });
    } catch (error) {
      throw (error as Error).name === 'AbortError' ? toCosignkitError(error) : fileError(file, error);
    }
    digestAlgorithm = 'sha256';
    digest = createHash('sha256').update(message).digest();
    signature = await backendCall(() => manager.signMessage!(keyId, message, { signal }));
  } else {
    // cosign hashes blobs with SHA-256 for every ECDSA key (it verifies P-384 keys that way too), and the
    // bundle names the hash, so SHA-256 is what every cosign verifies.
    digestAlgorithm = 'sha256';
    // Unlocking (a file key's scrypt, a token login) overlaps the hashing: neither needs the other.
    [digest] = await Promise.all([
      digestFile(file, digestAlgorithm, { signal }),
      backendCall(async () => manager.prepare?.(keyId, { signal })),
    ]);
    signature = await backendCall(() => manager.signDigest(keyId, digest, { signal }));
  }
  throwIfAborted(signal);
  // After signing: a file key's public key comes from the decrypted key, which signing has just unlocked.
  const publicKey = await backendCall(() => manager.getPublicKey(keyId));
  const spkiHash = createHash('sha256').update(spkiDer(publicKey)).digest();

  const base64Signature = Buffer.from(signature).toString('base64');
  const outputs: PendingOutput[] = [];
  // cosign writes the bare base64, no newline.
  if (options.outputSignature) outputs.push({ path: options.outputSignature, data: base64Signature });
  if (options.bundle) {
    outputs.push({
      path: options.bundle,
      data: keyBundleJson({ keyHint: spkiHash, digestAlgorithm, digest, signature }),
    });
  }
  await commitOutputs(outputs);
  return {
    engine: 'native',
    signature: base64Signature,
    digest: { algorithm: digestAlgorithm, hex: digest.toString('hex') },
    keyFingerprint: spkiHash.toString('hex'),
    ...(options.outputSignature ? { signaturePath: options.outputSignature } : {}),
    ...(options.bundle ? { bundlePath: options.bundle } : {}),
  };
}

/** Backends should throw CosignkitErrors; anything else is wrapped here, at the boundary. */
async function backendCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toCosignkitError(error, 'BACKEND_FAILURE');
  }
}
