import { readFile } from 'node:fs/promises';
import type { BatchInputs, BatchItemResult, BatchOptions, PendingOutput, SignManyInput } from '@cosignkit/core';
import { commitOutputs, digestFile, throwIfAborted } from '@cosignkit/core';
import type { SerializedSigstoreBundle } from '../roles/legacy-sigstore-annotations.js';
import type { SigstoreBundleSigner } from '../roles/sigstore-image.js';
import { allRegularFiles, ensureDirectories } from './output-files.js';
import { runPool } from './run-pool.js';

export interface SignManyWithSigstoreOptions extends BatchOptions {
  /** Skip files whose outputs exist and whose bundle is over the file's digest (and passes `check`). */
  skipExisting?: boolean;
  /** Checks each new bundle before it is written (the CLI's --trusted-root); also applied when skipping. */
  check?: (bundle: SerializedSigstoreBundle, digest: Buffer) => Promise<void>;
}

export interface SigstoreBlobResult {
  digest: { algorithm: 'sha256'; hex: string };
  signature: string;
  logIndex?: string;
  bundlePath?: string;
  signaturePath?: string;
}

/**
 * Signs many files keyless (or with a key and a log) through one bundle signer: the signer's key holds one
 * Fulcio certificate while it is valid, so a batch asks Fulcio once; each file gets its own Rekor entry
 * and/or timestamp, `jobs` uploads in flight at once. Outputs are atomic and written only for a complete
 * bundle.
 */
export function signManyWithSigstore(
  signer: SigstoreBundleSigner,
  inputs: BatchInputs<SignManyInput>,
  options: SignManyWithSigstoreOptions,
): AsyncGenerator<BatchItemResult<SignManyInput, SigstoreBlobResult>> {
  const directories = new Set<string>();
  return runPool<SignManyInput, SigstoreBlobResult>(inputs, options, async (input) => {
    const outputs = [input.bundle, input.outputSignature].filter((p): p is string => p !== undefined);
    const digest = await digestFile(input.file, 'sha256', { signal: options.signal });
    if (options.skipExisting && (await alreadySigned(input, outputs, digest, options))) return { status: 'skipped' };
    await ensureDirectories(outputs, directories);
    const bundle = await signer.signDigest(digest, options.signal);
    await options.check?.(bundle, digest);
    throwIfAborted(options.signal);
    const signature = bundle.messageSignature?.signature ?? '';
    const pending: PendingOutput[] = [];
    if (input.bundle) pending.push({ path: input.bundle, data: `${JSON.stringify(bundle)}\n` });
    if (input.outputSignature) pending.push({ path: input.outputSignature, data: signature });
    await commitOutputs(pending);
    const logIndex = bundle.verificationMaterial?.tlogEntries?.[0]?.logIndex;
    return {
      status: 'ok',
      result: {
        digest: { algorithm: 'sha256', hex: digest.toString('hex') },
        signature,
        ...(logIndex !== undefined ? { logIndex: String(logIndex) } : {}),
        ...(input.bundle ? { bundlePath: input.bundle } : {}),
        ...(input.outputSignature ? { signaturePath: input.outputSignature } : {}),
      },
    };
  });
}

/** Resuming: the bundle exists, is over this file's digest, and passes the check; the .sig matches it. */
async function alreadySigned(
  input: SignManyInput,
  outputs: readonly string[],
  digest: Buffer,
  options: SignManyWithSigstoreOptions,
): Promise<boolean> {
  if (!input.bundle || !(await allRegularFiles(outputs))) return false;
  try {
    const bundle = JSON.parse((await readFile(input.bundle)).toString('utf8')) as SerializedSigstoreBundle & {
      messageSignature?: { messageDigest?: { digest?: string } };
    };
    const signed = bundle.messageSignature?.messageDigest?.digest;
    if (!signed || !Buffer.from(signed, 'base64').equals(digest)) return false;
    if (input.outputSignature) {
      const sig = (await readFile(input.outputSignature)).toString('utf8').trim();
      if (sig !== bundle.messageSignature?.signature) return false;
    }
    await options.check?.(bundle, digest);
    return true;
  } catch {
    // Unreadable, malformed or failing its check: sign it again.
    return false;
  }
}
