import { CosignkitError } from '@cosignkit/core';

/** A USAGE error that tells the user where the help is. */
export function usageError(command: string, message: string): CosignkitError {
  return new CosignkitError('USAGE', `${message} (see "cosignkit ${command} --help")`);
}
