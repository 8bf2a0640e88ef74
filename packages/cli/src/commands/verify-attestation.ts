import { resolvePredicateType } from '@cosignkit/dsse';
import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { KEYLESS_FLAGS, KEYLESS_HELP } from '../keyless-verify-options.js';
import { IMAGE_BATCH_FLAGS, IMAGE_BATCH_HELP, imageTrust, verifyImages } from './image-verification.js';
import { REGISTRY_FLAGS, REGISTRY_HELP } from './oci-shared.js';

const FLAGS = {
  key: { type: 'string', multiple: true },
  type: { type: 'string' },
  'insecure-ignore-tlog': { type: 'boolean' },
  'new-bundle-format': { type: 'boolean' },
  'trusted-root': { type: 'string' },
  ...KEYLESS_FLAGS,
  ...IMAGE_BATCH_FLAGS,
  ...REGISTRY_FLAGS,
} as const;

const command: Command = {
  summary: 'verify the attestations of container images in their registry',
  configOnUse: true,
  help: `Usage: cosignkit verify-attestation (--key <pub|ref> | --certificate-identity… --certificate-oidc-issuer…) [--type <name|URI>] [flags] <image>...

Verifies attestations of <image> as "cosign verify-attestation" does, in both layouts (the
sha256-<hex>.att image and Sigstore-bundle referrers): a signature by the key, or keyless (the Fulcio
certificate, Rekor entry and timestamps of the layer's annotations or of the bundle, against the trusted
root and the identity flags, which are then required), a statement whose subject is the image's digest,
and the predicate type given by --type (default custom). Exit 2 when none verifies. The engine is native
unless --engine cosign is given (cosign 2.x reads only the .att layout there; keys only).

Flags:
  --key <pub|ref>              a PEM public key file or any key reference (repeatable)
  --type <name|URI>            the predicate type to require (custom by default, as cosign)
  --insecure-ignore-tlog       with a key: accepted (no log is checked); keyless: no log entry required
  --new-bundle-format          accepted; both layouts are always read
  --trusted-root <file>        keyless: the trusted root (with a key: accepted for cosign compatibility)
${REGISTRY_HELP}

${KEYLESS_HELP}

${IMAGE_BATCH_HELP}`,
  async run(context) {
    const flags = parseFlags('verify-attestation', context.argv, FLAGS, {
      min: 1,
      max: 10_000,
      names: 'the images to verify',
    });
    const trust = imageTrust('verify-attestation', flags, context);
    const type = stringFlag(flags, 'type') ?? 'custom';
    return verifyImages(
      context,
      flags,
      'attestations',
      (verifier, image, signal) =>
        verifier.verifyAttestation(image, { ...trust, type, predicateType: resolvePredicateType(type), signal }),
      trust.keyless !== undefined,
    );
  },
};

export default command;
