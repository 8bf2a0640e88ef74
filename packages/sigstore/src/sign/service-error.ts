import { CosignkitError } from '@cosignkit/core';

export type SigstoreService = 'Fulcio' | 'Rekor' | 'the timestamp authority';

/**
 * Turns what a service call throws (ServiceHttpError, or fetch's network and timeout errors) into one
 * CosignkitError line: the service, its URL and what went wrong; a refused token is IDENTITY_TOKEN. Messages
 * from elsewhere are cleaned of the given secrets (the identity token) and of control characters.
 */
export function serviceError(
  service: SigstoreService,
  url: string,
  error: unknown,
  secrets: string[] = [],
): CosignkitError {
  if (CosignkitError.isInstance(error)) return error;
  const http = findCause(error, (e) => typeof (e as { statusCode?: unknown }).statusCode === 'number') as
    | { statusCode: number; message: string }
    | undefined;
  const where = `${service} at ${url}`;
  if (http) {
    const detail = clean(http.message.replace(/^\(\d+\)\s*/, ''), secrets);
    const message = `${where} refused: ${http.statusCode}${detail ? ` ${detail}` : ''}`;
    const code =
      service === 'Fulcio' && (http.statusCode === 401 || http.statusCode === 403)
        ? 'IDENTITY_TOKEN'
        : 'BACKEND_FAILURE';
    return new CosignkitError(code, message, { details: { service, url, status: http.statusCode } });
  }
  const network = findCause(
    error,
    (e) =>
      typeof (e as { code?: unknown }).code === 'string' &&
      /^(E[A-Z]+|UND_ERR_\w+|FETCH_ERROR)$/.test((e as { code: string }).code),
  ) as { code: string } | undefined;
  // undici: TypeError "fetch failed" around the socket error (sometimes an AggregateError without a code).
  const fetchFailed =
    findCause(error, (e) => e instanceof TypeError && (e as Error).message === 'fetch failed') !== undefined;
  if (network || fetchFailed || isTimeout(error)) {
    return new CosignkitError(
      'BACKEND_UNAVAILABLE',
      `cannot reach ${where}${network ? ` (${network.code})` : ' (timed out)'}`,
      { details: { service, url } },
    );
  }
  const message = error instanceof Error ? clean(error.message, secrets) : 'unknown error';
  return new CosignkitError('BACKEND_FAILURE', `${where} failed: ${message}`, { details: { service, url } });
}

function findCause(error: unknown, test: (e: object) => boolean): object | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    if (test(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function isTimeout(error: unknown): boolean {
  return (
    findCause(
      error,
      (e) =>
        /timeout|timed out/i.test(String((e as { message?: unknown }).message ?? '')) ||
        (e as { type?: unknown }).type === 'request-timeout',
    ) !== undefined
  );
}

/** One printable line, no secrets. */
function clean(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join('[redacted]');
  // \p{Cc} is exactly C0, DEL and C1 (U+0000-001F, U+007F-009F).
  out = out.replace(/\p{Cc}+/gu, ' ').trim();
  return out.length > 300 ? `${out.slice(0, 300)}…` : out;
}
