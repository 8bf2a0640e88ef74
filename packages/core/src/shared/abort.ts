import { CosignkitError } from '../errors.js';

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CosignkitError('ABORTED', 'the operation was aborted', { cause: signal.reason });
}
