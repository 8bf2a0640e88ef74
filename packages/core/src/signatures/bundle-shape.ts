/** The Sigstore bundle media types cosign (sigstore-go) reads: v0.1–v0.3, both v0.3 spellings. */
export const SIGSTORE_BUNDLE_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json',
]);

/**
 * What makes a Sigstore bundle unreadable before any signature is looked at, as sigstore-go refuses it:
 * an unknown media type or version (a newer format may mean something we would misread), and both a
 * message signature and a DSSE envelope (protobuf's oneof: which one was signed is ambiguous, and
 * @sigstore/bundle silently keeps the first). Undefined when the shape is fine.
 */
export function bundleShapeProblem(json: Record<string, unknown>): string | undefined {
  const mediaType = json.mediaType;
  if (typeof mediaType !== 'string' || !SIGSTORE_BUNDLE_MEDIA_TYPES.has(mediaType)) {
    return `unknown bundle mediaType ${JSON.stringify(mediaType ?? null).slice(0, 120)} (known: v0.1 to v0.3)`;
  }
  if (json.messageSignature !== undefined && json.dsseEnvelope !== undefined) {
    return 'the bundle has both a messageSignature and a dsseEnvelope';
  }
  return undefined;
}
