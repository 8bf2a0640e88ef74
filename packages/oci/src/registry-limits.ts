/**
 * What the registry client reads at most. A registry is an untrusted party: every response is bounded in
 * bytes (counted as they arrive, not trusted from Content-Length), every list in length, and every exchange
 * in time, so that a hostile one ends an operation fast with a clear code instead of exhausting memory.
 */
export const REGISTRY_LIMITS = {
  /** A manifest or index: 4 MiB, as containerd, go-containerregistry and distribution cap them. */
  manifestBytes: 4 * 1024 * 1024,
  /** One layer of a `.sig`/`.att` image (cosign's simple-signing payloads and DSSE envelopes are small). */
  signatureLayerBytes: 16 * 1024 * 1024,
  /** One Sigstore bundle read as a referrer. */
  bundleBytes: 16 * 1024 * 1024,
  /** All layers of one signature image, or all bundles of one subject, together. */
  totalSignatureBytes: 64 * 1024 * 1024,
  /** Layers of one `.sig`/`.att`/`.sbom` image. */
  signatureLayers: 100,
  /** Entries of a referrers answer or a fallback index. */
  indexEntries: 1000,
  /** Candidate bundle referrers read for one subject. */
  referrers: 100,
  /** Blobs and manifests fetched at once for one read. */
  concurrency: 8,
  /** An error body, a token answer or a page of tags. */
  smallBodyBytes: 1024 * 1024,
  /** Pages of a tag list. */
  tagPages: 1000,
  /** The deadline of one exchange with the registry (request, redirects and the whole body): cosign's --timeout. */
  timeoutMs: 3 * 60 * 1000,
  /** How long a response may stall between two chunks. */
  idleTimeoutMs: 30 * 1000,
} as const;
