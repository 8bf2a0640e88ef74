import type { CosignkitError } from '../errors.js';

/** Inputs of a batch: a plain or async iterable, read lazily so a huge list never sits in memory at once. */
export type BatchInputs<T> = Iterable<T> | AsyncIterable<T>;

/** What every batch method takes besides its inputs. */
export interface BatchOptions {
  /** How many items run at once (default 8): one key stays open, hardware backends get concurrent calls. */
  jobs?: number;
  /** Stop taking new items after the first failure (default false: keep going and report each item). */
  failFast?: boolean;
  /** Cancels the batch: no new item starts, running items see the signal, the iterator ends with the error. */
  signal?: AbortSignal;
}

/**
 * One item's outcome, yielded as it completes (not in input order). `skipped` means its outputs already
 * existed and verified (`skipExisting`); `failed` carries the item's one-line error.
 */
export type BatchItemResult<I, R> =
  | { status: 'ok'; input: I; result: R }
  | { status: 'skipped'; input: I; result?: R }
  | { status: 'failed'; input: I; error: CosignkitError };

/** One file to sign: where its outputs go. */
export interface SignManyInput {
  file: string;
  /** Where to write its Sigstore bundle (v0.3). */
  bundle?: string;
  /** Where to write its base64 signature. */
  outputSignature?: string;
}

export interface SignManyOptions extends BatchOptions {
  /** The one key every item is signed with (default: the configured default key). */
  key?: string;
  /** Skip an item whose outputs already exist and verify with the key (for resuming an interrupted run). */
  skipExisting?: boolean;
}

/** One file to verify and the bundle or signature to verify it with. */
export interface VerifyManyInput {
  file: string;
  bundle?: string;
  signature?: string;
}

export interface VerifyManyOptions extends BatchOptions {
  /** The public key (file or reference) every item is verified with. */
  key: string;
}

/** One file to attest: where its envelope and/or bundle go. */
export interface AttestManyInput {
  file: string;
  outputFile?: string;
  bundle?: string;
}

export interface AttestManyOptions extends BatchOptions {
  key?: string;
  /** The predicate file, the same for every item. */
  predicate: string;
  type?: string;
  statementVersion?: 'v0.1' | 'v1';
  skipExisting?: boolean;
}
