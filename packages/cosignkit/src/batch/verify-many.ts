import type {
  BatchInputs,
  BatchItemResult,
  VerificationResult,
  VerifyManyInput,
  VerifyManyOptions,
} from '@cosignkit/core';
import type { KeyObject } from 'node:crypto';
import { nativeVerifyBlob } from '../engines/native/verify-blob.js';
import { runPool } from './run-pool.js';

/**
 * Verifies many files against one public key, `jobs` at a time. A signature that does not verify is an `ok`
 * item with `verified: false` (a result, as for one file); unusable input (a missing bundle) is `failed`.
 */
export function verifyMany(
  publicKey: KeyObject,
  inputs: BatchInputs<VerifyManyInput>,
  options: VerifyManyOptions,
): AsyncGenerator<BatchItemResult<VerifyManyInput, VerificationResult>> {
  return runPool(inputs, options, async (input) => ({
    status: 'ok',
    result: await nativeVerifyBlob(input.file, {
      publicKey,
      ...(input.bundle ? { bundle: input.bundle } : {}),
      ...(input.signature ? { signature: input.signature } : {}),
      signal: options.signal,
    }),
  }));
}
