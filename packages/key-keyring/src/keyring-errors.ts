import { CosignkitError, type ErrorCode } from '@cosignkit/core';

// Measured against @napi-rs/keyring 2.1.2 on gnome-keyring (README §Errors). The library reports everything
// as `GenericFailure`, so the message is all there is to classify by.
const LOCKED = /unlock prompt was dismissed|IsLocked|is locked|locked object/i;
const UNAVAILABLE =
  /DBus error|zbus error|Failed to connect|ServiceUnknown|not provided by any \.service|No such file|AccessDenied|Couldn't access platform storage|NoStorageAccess/i;

/** Wraps an error from the native keyring into a CosignkitError, keeping it as `cause`. */
export function keyringError(error: unknown, doing: string): CosignkitError {
  if (CosignkitError.isInstance(error)) return error;
  const text = error instanceof Error ? error.message : String(error);
  const code: ErrorCode = LOCKED.test(text)
    ? 'BACKEND_LOCKED'
    : UNAVAILABLE.test(text)
      ? 'BACKEND_UNAVAILABLE'
      : 'BACKEND_FAILURE';
  const hint =
    code === 'BACKEND_LOCKED'
      ? ': the keyring is locked (unlock it, e.g. by logging in to the desktop session)'
      : code === 'BACKEND_UNAVAILABLE'
        ? ': no Secret Service is reachable (is gnome-keyring or KeePassXC running on the session D-Bus?)'
        : '';
  return new CosignkitError(code, `OS keyring: ${doing} failed${hint} [${firstLine(text)}]`, { cause: error });
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0]!.trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
