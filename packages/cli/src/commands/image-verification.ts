import type { KeylessPolicy, RegistryVerificationResult } from '@cosignkit/core';
import { createVerifier, runPool } from 'cosignkit';
import { booleanFlag, stringFlag, type ParsedFlags } from '../args.js';
import { jobsFlag } from '../batch/batch-flags.js';
import { failedReport, runBatch } from '../batch/run-batch.js';
import type { CommandContext, CommandResult } from '../command.js';
import { IDENTITY_FLAGS, keylessPolicyOf } from '../keyless-verify-options.js';
import { usageError } from '../usage-error.js';
import { ociRoleOptions, verificationOutcome } from './oci-shared.js';

/** The flags `verify` and `verify-attestation` add for several images at once. */
export const IMAGE_BATCH_FLAGS = {
  jobs: { type: 'string', short: 'j' },
  'fail-fast': { type: 'boolean' },
} as const;

export const IMAGE_BATCH_HELP = `Several images: each is verified (-j/--jobs <n> at a time, default 4; --fail-fast stops starting
new ones after a failure); a failure is one line on stderr naming its image, then a summary; --json prints
one JSON line per image. Exit 0 when every image verified, 2 when any did not, 1 when any could not be checked.`;

/** Keys, or cosign's keyless policy when no key is given (on the line or as the default). */
export function imageTrust(
  command: string,
  flags: ParsedFlags,
  context: CommandContext,
): { key: string[]; keyless?: KeylessPolicy } {
  const given = flags.values.key as string[] | undefined;
  const identity = IDENTITY_FLAGS.some((f) => stringFlag(flags, f) !== undefined);
  if (given && identity) throw usageError(command, '--key and --certificate-* flags exclude each other');
  const keys = given ?? (!identity && context.config.defaultKey ? [context.config.defaultKey] : []);
  if (keys.length > 0) return { key: keys };
  return { key: [], keyless: keylessPolicyOf(flags) };
}

/**
 * Verifies one image (the result as the one-image commands print it) or several (a batch: a line per image
 * and a summary). The role is shared, so keyless trust (root, policy) is loaded once for all images.
 */
export async function verifyImages(
  context: CommandContext,
  flags: ParsedFlags,
  what: 'signatures' | 'attestations',
  verifyOne: (
    verifier: ReturnType<typeof createVerifier>,
    image: string,
    signal: AbortSignal,
  ) => Promise<RegistryVerificationResult>,
  keyless: boolean,
): Promise<CommandResult> {
  const verifier = createVerifier(ociRoleOptions(context, flags));
  const images = flags.positionals;
  const command = what === 'signatures' ? 'verify' : 'verify-attestation';
  if (images.length === 1) {
    return verificationOutcome(await verifyOne(verifier, images[0]!, context.signal), what, keyless);
  }
  const jobs = jobsFlag(command, flags) ?? 4;
  return runBatch(
    context,
    { done: 'verified', command },
    images.length,
    runPool(
      images,
      { jobs, failFast: booleanFlag(flags, 'fail-fast') === true, signal: context.signal },
      async (image) => ({
        status: 'ok' as const,
        result: await verifyOne(verifier, image, context.signal),
      }),
    ),
    (item) => {
      if (item.status === 'failed') return failedReport(item.input, item);
      const result = item.result!;
      const fields = { digest: result.artifact?.digest, signatures: result.signatures };
      if (result.verified) return { file: item.input, status: 'ok', fields };
      const outcome = verificationOutcome(result, what, keyless);
      return {
        file: item.input,
        status: outcome.exitCode === 2 ? 'unverified' : 'failed',
        fields,
        code: outcome.exitCode === 2 ? 'VERIFICATION_FAILED' : (result.failures[0]?.code ?? 'VERIFICATION_FAILED'),
        message: result.failures.map((f) => f.message).join('; '),
      };
    },
  );
}
