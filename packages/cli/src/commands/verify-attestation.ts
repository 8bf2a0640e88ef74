import { createVerifier } from 'cosignkit';
import { resolvePredicateType } from '@cosignkit/dsse';
import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { ociRoleOptions, REGISTRY_FLAGS, REGISTRY_HELP, requireKey, verificationOutcome } from './oci-shared.js';

const FLAGS = {
  key: { type: 'string', multiple: true },
  type: { type: 'string' },
  'insecure-ignore-tlog': { type: 'boolean' },
  'new-bundle-format': { type: 'boolean' },
  'trusted-root': { type: 'string' },
  ...REGISTRY_FLAGS,
} as const;

const command: Command = {
  summary: 'verify the attestations of a container image in its registry',
  help: `Usage: cosignkit verify-attestation --key <pub|ref> [--type <name|URI>] [flags] <image>

Verifies attestations of <image> as "cosign verify-attestation --key … --insecure-ignore-tlog" does, in
both layouts (the sha256-<hex>.att image and Sigstore-bundle referrers): a signature by the key, a
statement whose subject is the image's digest, and the predicate type given by --type (default custom).
Exit 2 when none verifies. The engine is native unless --engine cosign is given (cosign 2.x reads only
the .att layout there).

Flags:
  --key <pub|ref>              a PEM public key file or any key reference (repeatable)
  --type <name|URI>            the predicate type to require (custom by default, as cosign)
  --insecure-ignore-tlog       accepted; key signatures are checked without a transparency log
  --new-bundle-format          accepted; both layouts are always read
  --trusted-root <file>        accepted for cosign compatibility
${REGISTRY_HELP}`,
  async run(context) {
    const flags = parseFlags('verify-attestation', context.argv, FLAGS, {
      min: 1,
      max: 1,
      names: 'the image to verify',
    });
    const keys =
      (flags.values.key as string[] | undefined) ?? (context.config.defaultKey ? [context.config.defaultKey] : []);
    requireKey('verify-attestation', keys[0]);
    const type = stringFlag(flags, 'type') ?? 'custom';
    const verifier = createVerifier(ociRoleOptions(context, flags));
    const result = await verifier.verifyAttestation(flags.positionals[0]!, {
      key: keys,
      type,
      predicateType: resolvePredicateType(type),
      signal: context.signal,
    });
    return verificationOutcome(result, 'attestations');
  },
};

export default command;
