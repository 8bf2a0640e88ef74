import { CosignkitError, type ErrorCode } from '../errors.js';

/** cosign's documented exit codes. */
export const COSIGN_EXIT = {
  OK: 0,
  FAILURE: 1,
  NO_SIGNATURE: 10,
  TAG_MISSING: 11,
  NO_MATCHING_SIGNATURE: 12,
  NO_CERTIFICATE: 13,
} as const;

/** What cosign printed when the signature simply does not match (a verdict, not an error). */
const MISMATCH = [
  /invalid signature when validating/i,
  /failed to verify signature/i,
  /could not verify message/i,
  /signature mismatch/i,
  /no matching signatures/i,
  /verification failed/i,
];

const CLASSES: readonly [RegExp, ErrorCode][] = [
  [/decrypt(ion)? failed|decrypt: encrypted|incorrect password|wrong password/i, 'PASSWORD_INCORRECT'],
  [/(reading key|loading public key|private key)[^\n]*no such file or directory/i, 'KEY_NOT_FOUND'],
  [/no such file or directory/i, 'FILE_NOT_FOUND'],
  [/is a directory/i, 'NOT_A_FILE'],
  [
    /unsupported (public )?key type|error validating \w+ key|unsupported key|unsupported scrypt parameters/i,
    'KEY_UNSUPPORTED',
  ],
  [
    /reading key: (invalid pem block|decrypt: invalid character|decrypt: unexpected end of JSON|decrypt: illegal base64)/i,
    'KEY_MALFORMED',
  ],
  [
    // Go's protobuf puts a no-break space (U+00A0) after "proto:" on purpose, so that callers do not match
    // its messages byte for byte; \s matches it.
    /proto:\s|invalid character .* looking for beginning|unmarshal(l)?ing bundle|bundle.*(invalid|malformed)/i,
    'BUNDLE_MALFORMED',
  ],
  [/sigstore-kms-|plugin/i, 'BACKEND_FAILURE'],
];

export interface CosignOutcome {
  exitCode: number;
  stderr: string;
  /** The argv with secrets removed (there should be none: secrets go through the environment). */
  argv: string[];
}

/** True when a failed verify-blob means "this signature does not verify" rather than unusable input. */
export function isVerificationMismatch(outcome: CosignOutcome): boolean {
  if (outcome.exitCode === COSIGN_EXIT.NO_SIGNATURE || outcome.exitCode === COSIGN_EXIT.NO_MATCHING_SIGNATURE)
    return true;
  return outcome.exitCode === COSIGN_EXIT.FAILURE && MISMATCH.some((re) => re.test(outcome.stderr));
}

/** cosign's own one-line reason: the last `Error: …` line, else the last non-empty line. */
export function cosignReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const error = [...lines].reverse().find((l) => l.startsWith('Error: '));
  const line = error ? error.slice('Error: '.length) : (lines.at(-1) ?? 'no message');
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** Maps a failed cosign run to a typed error carrying the exit code, a stderr excerpt and the redacted argv. */
export function cosignError(command: string, outcome: CosignOutcome): CosignkitError {
  const reason = cosignReason(outcome.stderr);
  let code: ErrorCode = 'COSIGN_FAILED';
  if (outcome.exitCode === COSIGN_EXIT.NO_SIGNATURE || outcome.exitCode === COSIGN_EXIT.NO_MATCHING_SIGNATURE) {
    code = 'VERIFICATION_FAILED';
  } else if (outcome.exitCode === COSIGN_EXIT.NO_CERTIFICATE) {
    code = 'VERIFICATION_FAILED';
  } else {
    code = CLASSES.find(([re]) => re.test(outcome.stderr))?.[1] ?? code;
  }
  return new CosignkitError(code, `cosign ${command} failed: ${reason}`, {
    details: { exitCode: outcome.exitCode, stderr: excerpt(outcome.stderr), argv: outcome.argv },
  });
}

function excerpt(stderr: string): string {
  const trimmed = stderr.trim();
  return trimmed.length > 1000 ? `…${trimmed.slice(-1000)}` : trimmed;
}
