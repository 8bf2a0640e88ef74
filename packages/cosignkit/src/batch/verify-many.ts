import type {
  BatchInputs,
  BatchItemResult,
  VerificationResult,
  VerifyManyInput,
  VerifyManyOptions,
} from '@cosignkit/core';
import type { KeyObject } from 'node:crypto';
import { fingerprintOf } from '@cosignkit/core';
import { nativeVerifyBlob } from '../engines/native/verify-blob.js';
import { createQuickBundleVerifier } from './quick-verify-bundle.js';
import { runPool } from './run-pool.js';

/**
 * Verifies many files against one public key, `jobs` at a time. A signature that does not verify is an `ok`
 * item with `verified: false` (a result, as for one file); unusable input (a missing bundle) is `failed`.
 * A small file with a plain key bundle that verifies is answered by the quick verifier; everything else
 * (including every failure) goes through the one-file verifier, so verdicts and messages are the same.
 */
export function verifyMany(
  publicKey: KeyObject,
  inputs: BatchInputs<VerifyManyInput>,
  options: VerifyManyOptions,
): AsyncGenerator<BatchItemResult<VerifyManyInput, VerificationResult>> {
  const quick = createQuickBundleVerifier(publicKey, fingerprintOf(publicKey));
  return runPool(inputs, options, async (input) => ({
    status: 'ok',
    result:
      (input.bundle && !input.signature ? await quick(input.file, input.bundle) : undefined) ??
      (await nativeVerifyBlob(input.file, {
        publicKey,
        ...(input.bundle ? { bundle: input.bundle } : {}),
        ...(input.signature ? { signature: input.signature } : {}),
        signal: options.signal,
      })),
  }));
}
