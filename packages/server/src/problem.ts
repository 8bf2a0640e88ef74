/**
 * A refusal as RFC 9457 problem details. `type` is the stable identifier programs match on (its last path
 * segment is the `slug`); `detail` is one line for people and never holds a token, key or stack.
 */
export class Problem extends Error {
  readonly status: number;
  readonly slug: string;
  readonly title: string;
  /** Extra response headers (Retry-After, WWW-Authenticate). */
  readonly headers: Record<string, string>;

  constructor(status: number, slug: string, title: string, detail: string, headers: Record<string, string> = {}) {
    super(oneLine(detail));
    this.name = 'Problem';
    this.status = status;
    this.slug = slug;
    this.title = title;
    this.headers = headers;
  }

  static isInstance(value: unknown): value is Problem {
    return value instanceof Problem;
  }

  /** The problem+json body; `instance` names the audit id, so a caller can quote it to an operator. */
  body(auditId: string): Record<string, unknown> {
    return {
      type: `${PROBLEM_BASE}${this.slug}`,
      title: this.title,
      status: this.status,
      detail: this.message,
      instance: `urn:cosignkit:audit:${auditId}`,
      auditId,
    };
  }
}

export const PROBLEM_BASE = 'https://cosignkit.dev/problems/';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

// Short factories, one per status family the issue names.
export const malformed = (detail: string) => new Problem(400, 'malformed-request', 'Malformed request', detail);
export const unauthenticated = (detail: string, headers: Record<string, string> = {}) =>
  new Problem(401, 'invalid-token', 'Invalid or missing operation token', detail, {
    'www-authenticate': 'Bearer error="invalid_token"',
    ...headers,
  });
export const forbidden = (slug: string, title: string, detail: string) => new Problem(403, slug, title, detail);
export const tooLarge = (detail: string) => new Problem(413, 'too-large', 'Request too large for the plan', detail);
export const overQuota = (detail: string, retryAfterSeconds: number) =>
  new Problem(429, 'over-quota', 'Plan quota exceeded', detail, {
    'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
  });
export const unavailable = (detail: string, retryAfterSeconds = 1) =>
  new Problem(503, 'unavailable', 'Service unavailable', detail, { 'retry-after': String(retryAfterSeconds) });

/** One printable line: control characters (a hostile claim value) become spaces, length is capped. */
export function oneLine(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}
