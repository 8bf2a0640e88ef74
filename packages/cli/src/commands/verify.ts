import type { RegistryVerificationResult } from '@cosignkit/core';
import { escapeForTerminal } from '@cosignkit/core';
import { parseFlags } from '../args.js';
import type { Command, CommandResult } from '../command.js';
import { annotationsOf, filterByAnnotations } from './annotation-filter.js';
import { KEYLESS_FLAGS, KEYLESS_HELP } from '../keyless-verify-options.js';
import { IMAGE_BATCH_FLAGS, IMAGE_BATCH_HELP, imageTrust, verifyImages } from './image-verification.js';
import { parseAnnotations, REGISTRY_FLAGS, REGISTRY_HELP } from './oci-shared.js';

const FLAGS = {
  key: { type: 'string', multiple: true },
  'insecure-ignore-tlog': { type: 'boolean' },
  'new-bundle-format': { type: 'boolean' },
  'trusted-root': { type: 'string' },
  annotations: { type: 'string', short: 'a', multiple: true },
  ...KEYLESS_FLAGS,
  ...IMAGE_BATCH_FLAGS,
  ...REGISTRY_FLAGS,
} as const;

const command: Command = {
  summary: 'verify the signatures of container images in their registry',
  configOnUse: true,
  help: `Usage: cosignkit verify (--key <pub|ref> | --certificate-identity… --certificate-oidc-issuer…) [flags] <image>...

Verifies <image> as "cosign verify" does: signatures are looked for in both layouts (the sha256-<hex>.sig
image and Sigstore-bundle referrers). With --key each is checked against the key (no transparency log, as
"cosign verify --key … --insecure-ignore-tlog"). Without a key, keyless as cosign: each signature's Fulcio
certificate (from the layer's dev.sigstore.cosign/certificate and chain annotations, or the bundle), its
Rekor entry (the dev.sigstore.cosign/bundle SET, or the bundle's entry), its SCT and RFC 3161 timestamps are
checked against the trusted root, and the certificate against the identity flags (required).
A tag is resolved first: signatures of the digest it names now are what count. Prints the verified
payloads as JSON. Exit 2 when no signature verifies (none found included), 3 when all are malformed.
The engine is native unless --engine cosign is given (cosign 2.x reads only the .sig layout; keys only).

Flags:
  --key <pub|ref>              a PEM public key file or any key reference (repeatable: any key may sign)
  --insecure-ignore-tlog       with a key: accepted (no log is checked); keyless: no log entry required
  --new-bundle-format          accepted; both layouts are always read
  --trusted-root <file>        keyless: the trusted root (with a key: accepted for cosign compatibility)
  -a, --annotations key=value  only signatures whose payload carries this annotation count (repeatable;
                               all must match), as cosign; the annotations of each are listed on stderr
${REGISTRY_HELP}

${KEYLESS_HELP}

${IMAGE_BATCH_HELP}`,
  async run(context) {
    const flags = parseFlags('verify', context.argv, FLAGS, {
      min: 1,
      max: 10_000,
      names: 'the images to verify',
    });
    const trust = imageTrust('verify', flags, context);
    const wanted = parseAnnotations('verify', flags.values.annotations);
    let single: RegistryVerificationResult | undefined;
    const outcome = await verifyImages(
      context,
      flags,
      'signatures',
      async (verifier, image, signal) => {
        single = filterByAnnotations(await verifier.verifyRegistry(image, { ...trust, signal }), wanted);
        return single;
      },
      trust.keyless !== undefined,
    );
    return flags.positionals.length === 1 && single?.verified ? withAnnotations(outcome, single) : outcome;
  },
};

/** One image's result lists each verified signature's annotations (registry text: escaped before printing). */
function withAnnotations(outcome: CommandResult, result: RegistryVerificationResult): CommandResult {
  const annotations = result.payloads.map(annotationsOf);
  const listed = annotations.map(
    (a, i) =>
      `  - signature ${i + 1} annotations: ${
        Object.entries(a)
          .map(([k, v]) => escapeForTerminal(`${k}=${v}`))
          .join(', ') || '(none)'
      }`,
  );
  return {
    ...outcome,
    data: { ...(outcome.data as object), annotations },
    notes: [...(outcome.notes ?? []), ...listed],
  };
}

export default command;
