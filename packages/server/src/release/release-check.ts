/** The trust verdict on a scanner image. */
export interface ReleaseVerdict {
  trusted: boolean;
  /** Why not (or how) in one line. */
  reason: string;
  /** The trusted keys (their hints) that signed it. */
  signers: string[];
  /** Signatures found, by where they were found. */
  signatures: { source: 'referrers' | 'tag' | 'legacy'; verified: boolean }[];
}

export interface ReleaseChecker {
  check(digest: string): Promise<ReleaseVerdict>;
}
