import { createHash, hash as hashOnce } from 'node:crypto';
import type {
  BatchInputs,
  BatchItemResult,
  KeyManager,
  PendingOutput,
  SignBlobResult,
  SignManyInput,
  SignManyOptions,
} from '@cosignkit/core';
import {
  CosignkitError,
  fingerprintOf,
  spkiDer,
  streamFileTo,
  throwIfAborted,
  toCosignkitError,
} from '@cosignkit/core';
import { nativeSignBlob } from '../engines/native/sign-blob.js';
import { nativeVerifyBlob } from '../engines/native/verify-blob.js';
import type { SigningKey } from '../roles/signing-key.js';
import { commitSmallOutputs } from './commit-small-outputs.js';
import { keyBundleWriter } from './key-bundle-writer.js';
import { allRegularFiles, ensureDirectories } from './output-files.js';
import { createQuickBundleVerifier } from './quick-verify-bundle.js';
import { readSmallFileSync, smallFileScratch } from './read-small-file.js';
import { type ItemOutcome, runPool } from './run-pool.js';
import { createTempNamer } from './temp-names.js';

/**
 * Signs many files with one key: the key is opened (and a file key decrypted) once, then `jobs` files are
 * hashed and signed at a time. P-256 software keys sign in OpenSSL (a small file in one call, signOnce);
 * other keys sign digests through their backend, concurrently, so a token or TPM always has work queued. A
 * small file (most of a release) is read, hashed and signed with plain syscalls on the main thread (its
 * asynchronous round trips cost more than the work) and its bundle written on the thread pool; larger files
 * are streamed through the thread pool.
 */
export async function* signMany(
  key: SigningKey,
  inputs: BatchInputs<SignManyInput>,
  options: SignManyOptions,
): AsyncGenerator<BatchItemResult<SignManyInput, SignBlobResult>> {
  throwIfAborted(options.signal);
  const { work, close } = key.engine === 'native' ? await nativeWork(key, options) : await cosignWork(key, options);
  try {
    yield* runPool(inputs, options, work);
  } finally {
    await close();
  }
}

type Work = (input: SignManyInput) => Promise<ItemOutcome<SignBlobResult>>;
/** A batch's work, and what releases its resources once every item is done. */
interface BatchWork {
  work: Work;
  close: () => Promise<void>;
}

async function nativeWork(
  key: Extract<SigningKey, { engine: 'native' }>,
  options: SignManyOptions,
): Promise<BatchWork> {
  const { signal } = options;
  const opened = await key.open();
  const { manager, keyId } = opened;
  await backendCall(() => manager.prepare?.(keyId, { signal }) ?? Promise.resolve());
  const algorithm = await backendCall(() => manager.getAlgorithm(keyId));
  const publicKey = await backendCall(() => manager.getPublicKey(keyId));
  const keyHint = createHash('sha256').update(spkiDer(publicKey)).digest();
  const keyFingerprint = keyHint.toString('hex');
  // Probe once: a backend without a streaming signer (or a key it cannot stream) signs digests instead. The
  // probe's signer, when it offers signOnce (a file key), is kept for the batch: a small file is then read,
  // hashed, signed and written with no await at all.
  const probe =
    algorithm === 'ecdsa-p256-sha256' && manager.createMessageSigner
      ? await backendCall(() => manager.createMessageSigner!(keyId, { signal }))
      : undefined;
  const streaming = probe !== undefined;
  const signOnce = probe?.signOnce?.bind(probe);

  const quickVerify = createQuickBundleVerifier(publicKey, fingerprintOf(publicKey));
  const bundleJson = keyBundleWriter(keyHint);
  const tempFor = createTempNamer();
  const scratch = smallFileScratch();
  const directories = new Set<string>();
  const work: Work = async (input) => {
    const outputs = outputsOf(input);
    if (options.skipExisting && (await outputsVerify(input, outputs, publicKey, signal, quickVerify))) {
      return { status: 'skipped' };
    }
    await ensureDirectories(outputs, directories);
    if (algorithm !== 'ecdsa-p256-sha256') {
      // Ed25519 signs whole messages and P-384 has its own digest rules: the one-file path handles both.
      const result = await nativeSignBlob(input.file, { manager, keyId, ...input, signal });
      return { status: 'ok', result };
    }
    let signed: { digest: Buffer; signature: Uint8Array };
    if (signOnce) {
      // Read, hashed and signed with no await in between: `data` is a view of the one scratch buffer.
      // node:crypto cannot sign a digest, so OpenSSL hashes the message a second time to sign it. (Hashing
      // on the thread pool instead, with webcrypto's digest, measured slower: its copy of the input is a
      // zero-filled allocation that costs more than the hash.)
      const data = readSmallFileSync(input.file, undefined, scratch);
      signed = data
        ? { digest: hashOnce('sha256', data, 'buffer'), signature: backendSync(() => signOnce(data)) }
        : await streamAndSign(input.file);
    } else if (streaming) {
      signed = await streamAndSign(input.file);
    } else {
      const data = readSmallFileSync(input.file, undefined, scratch);
      let digest: Buffer;
      if (data) {
        digest = hashOnce('sha256', data, 'buffer');
      } else {
        const hash = createHash('sha256');
        await streamFileTo(input.file, [hash], signal);
        digest = hash.digest();
      }
      signed = { digest, signature: await backendCall(() => manager.signDigest(keyId, digest, { signal })) };
    }
    throwIfAborted(signal);
    const { digest: digestBytes, signature } = signed;
    const base64Signature = Buffer.from(signature).toString('base64');
    const pending: PendingOutput[] = [];
    if (input.outputSignature) pending.push({ path: input.outputSignature, data: base64Signature });
    if (input.bundle) pending.push({ path: input.bundle, data: bundleJson(digestBytes, base64Signature) });
    // Written on the thread pool while this thread signs the next files (commit-small-outputs.ts says why).
    await commitSmallOutputs(pending, tempFor);
    return {
      status: 'ok',
      result: {
        engine: 'native',
        signature: base64Signature,
        digest: { algorithm: 'sha256', hex: digestBytes.toString('hex') },
        keyFingerprint,
        ...(input.outputSignature ? { signaturePath: input.outputSignature } : {}),
        ...(input.bundle ? { bundlePath: input.bundle } : {}),
      },
    };
  };
  return { work, close: async () => undefined };

  /** A file past the small-file size, or any file without signOnce: streamed once into a fresh signer. */
  async function streamAndSign(file: string): Promise<{ digest: Buffer; signature: Uint8Array }> {
    const signer = await backendCall(() => manager.createMessageSigner!(keyId, { signal }));
    if (!signer) throw new CosignkitError('BACKEND_FAILURE', 'the key stopped offering a message signer');
    const hash = createHash('sha256');
    const data = readSmallFileSync(file, undefined, scratch);
    if (data) {
      // As above: no await between the read into the scratch buffer and its last use.
      backendSync(() => signer.update(data));
      return { digest: hashOnce('sha256', data, 'buffer'), signature: backendSync(() => signer.sign()) };
    }
    await streamFileTo(file, [hash, signer], signal);
    return { digest: hash.digest(), signature: backendSync(() => signer.sign()) };
  }
}

async function cosignWork(
  key: Extract<SigningKey, { engine: 'cosign' }>,
  options: SignManyOptions,
): Promise<BatchWork> {
  // One password request for the batch; cosign itself still decrypts the key once per file.
  const { key: cosignKey, password } = await key.cosignKey();
  const directories = new Set<string>();
  const work: Work = async (input) => {
    const outputs = outputsOf(input);
    if (options.skipExisting && outputs.length > 0 && (await allRegularFiles(outputs))) return { status: 'skipped' };
    await ensureDirectories(outputs, directories);
    const result = await key.runner.signBlob(input.file, {
      key: cosignKey,
      password,
      outputSignature: input.outputSignature,
      bundle: input.bundle,
      signal: options.signal,
    });
    return { status: 'ok', result };
  };
  return { work, close: async () => undefined };
}

function outputsOf(input: SignManyInput): string[] {
  return [input.bundle, input.outputSignature].filter((p): p is string => p !== undefined);
}

/** Resuming: an item counts as done only when every output exists and verifies against the file and key. */
async function outputsVerify(
  input: SignManyInput,
  outputs: readonly string[],
  publicKey: Awaited<ReturnType<KeyManager['getPublicKey']>>,
  signal: AbortSignal | undefined,
  quickVerify: ReturnType<typeof createQuickBundleVerifier>,
): Promise<boolean> {
  if (outputs.length === 0 || !(await allRegularFiles(outputs))) return false;
  // The common resume case (a bundle only, a small file, it verifies) without the full verifier's costs.
  if (input.bundle && !input.outputSignature && (await quickVerify(input.file, input.bundle))?.verified) return true;
  try {
    const result = await nativeVerifyBlob(input.file, {
      publicKey,
      ...(input.bundle ? { bundle: input.bundle } : {}),
      ...(input.outputSignature ? { signature: input.outputSignature } : {}),
      signal,
    });
    return result.verified;
  } catch (error) {
    // An unreadable or malformed output is redone; a missing input or an abort is the item's own error.
    const code = toCosignkitError(error).code;
    if (code === 'ABORTED' || code === 'FILE_NOT_FOUND' || code === 'NOT_A_FILE') throw error;
    return false;
  }
}

async function backendCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toCosignkitError(error, 'BACKEND_FAILURE');
  }
}

function backendSync<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw toCosignkitError(error, 'BACKEND_FAILURE');
  }
}
