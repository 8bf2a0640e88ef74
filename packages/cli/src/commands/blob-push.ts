import { stringFlag, type ParsedFlags } from '../args.js';
import type { CommandContext, CommandResult } from '../command.js';
import { usageError } from '../usage-error.js';
import { REGISTRY_FLAGS, REGISTRY_HELP } from './registry-flags.js';

/**
 * `sign-blob --push` and `attest-blob --push` (seed 000's S-2, S-6 and attest_blob_and_push): the file goes to
 * the registry as `cosign upload blob` leaves it, then is signed or attested in place as `cosign sign` /
 * `cosign attest` would, so the stock cosign verifies it by the printed digest. Any key backend.
 */
export const PUSH_FLAGS = {
  push: { type: 'string' },
  format: { type: 'string' },
  annotations: { type: 'string', short: 'a', multiple: true },
  ...REGISTRY_FLAGS,
} as const;

export const PUSH_HELP = `Push (one command for "cosign upload blob" then "cosign sign"/"cosign attest"):
  --push <repo[:tag]>          push <file> to the registry (tag default latest) as cosign upload blob does,
                               then sign (attest) the pushed artifact's digest there; prints repo@sha256:…
  --format legacy|bundle       the signature layout (default: legacy on the cosign engine, bundle natively)
  -a, --annotations key=value  sign-blob: annotations in the signed payload (repeatable)
${REGISTRY_HELP}`;

export function pushRequested(flags: ParsedFlags): boolean {
  return stringFlag(flags, 'push') !== undefined;
}

/** Flags that write local files, which make no sense with --push: refused rather than silently ignored. */
function refuseLocalOutputs(command: string, flags: ParsedFlags, names: readonly string[]): void {
  for (const name of names)
    if (flags.values[name] !== undefined) throw usageError(command, `--${name} does not go with --push`);
}

/** The note naming the key's backend and id (its SPKI SHA-256), the design's provenance metadata. */
export function keyNote(backend: string, fingerprint: string | undefined): string {
  return fingerprint ? `key: ${backend} backend, id sha256:${fingerprint}` : `key: ${backend} backend`;
}

export async function signBlobAndPush(
  context: CommandContext,
  flags: ParsedFlags,
  key: string | undefined,
): Promise<CommandResult> {
  refuseLocalOutputs('sign-blob', flags, ['output-signature', 'output', 'bundle']);
  const ref = stringFlag(flags, 'push')!;
  const file = flags.positionals[0]!;
  // The registry side only here: sign-blob and attest-blob without --push never load it.
  const [{ ociRoleOptions, parseAnnotations, parseFormat }, { createSigner }] = await Promise.all([
    import('./oci-shared.js'),
    import('cosignkit'),
  ]);
  const format = parseFormat('sign-blob', stringFlag(flags, 'format'));
  const annotations = parseAnnotations('sign-blob', flags.values.annotations);
  const signer = createSigner(ociRoleOptions(context, flags));
  const result = await signer.signBlobAndPush(file, ref, {
    ...(key !== undefined ? { key } : {}),
    ...(format !== undefined ? { format } : {}),
    ...(annotations !== undefined ? { annotations } : {}),
    signal: context.signal,
  });
  const keyBackend = result.keyBackend ?? 'unknown';
  return {
    text: result.image,
    data: {
      ...result,
      keyBackend,
      ...(result.keyFingerprint ? { keyId: result.keyFingerprint } : {}),
      ...(annotations ? { annotations } : {}),
    },
    notes: [
      `engine: ${result.engine}`,
      keyNote(keyBackend, result.keyFingerprint),
      `Pushed ${file} and signed ${result.image}`,
    ],
  };
}

export async function attestBlobAndPush(
  context: CommandContext,
  flags: ParsedFlags,
  key: string | undefined,
  predicate: string,
  type: string,
): Promise<CommandResult> {
  refuseLocalOutputs('attest-blob', flags, ['output-file', 'bundle', 'annotations']);
  const ref = stringFlag(flags, 'push')!;
  const file = flags.positionals[0]!;
  const [{ ociRoleOptions, parseFormat }, { createAttester }] = await Promise.all([
    import('./oci-shared.js'),
    import('cosignkit'),
  ]);
  const format = parseFormat('attest-blob', stringFlag(flags, 'format'));
  const attester = createAttester(ociRoleOptions(context, flags));
  const result = await attester.attestBlobAndPush(file, ref, {
    ...(key !== undefined ? { key } : {}),
    predicate,
    type,
    ...(format !== undefined ? { format } : {}),
    signal: context.signal,
  });
  const keyBackend = result.keyBackend ?? 'unknown';
  return {
    text: result.image,
    data: { ...result, keyBackend, ...(result.keyFingerprint ? { keyId: result.keyFingerprint } : {}) },
    notes: [
      `engine: ${result.engine}`,
      keyNote(keyBackend, result.keyFingerprint),
      `Pushed ${file} and attested ${result.image} (${result.predicateType})`,
    ],
  };
}
