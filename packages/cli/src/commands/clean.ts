import { cleanAttachments, type AttachmentKind } from '@cosignkit/oci';
import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { usageError } from '../usage-error.js';
import { registryClient, REGISTRY_FLAGS, REGISTRY_HELP } from './oci-shared.js';

const FLAGS = { type: { type: 'string' }, force: { type: 'boolean', short: 'f' }, ...REGISTRY_FLAGS } as const;

const KINDS: Record<string, AttachmentKind[]> = {
  signature: ['signature'],
  attestation: ['attestation'],
  sbom: ['sbom'],
  all: ['signature', 'attestation', 'sbom'],
};

const command: Command = {
  summary: 'remove the signatures and/or attestations attached to an image',
  help: `Usage: cosignkit clean [--type signature|attestation|sbom|all] [flags] <image>

Removes what is attached to <image>, as "cosign clean" does: cosign's tag images and Sigstore-bundle
referrers (with their fallback index when no referrer is left). Nothing asks for confirmation.

Flags:
  --type <kind>                signature, attestation, sbom or all (default all)
  -f, --force                  accepted for cosign compatibility
${REGISTRY_HELP}`,
  async run(context) {
    const flags = parseFlags('clean', context.argv, FLAGS, { min: 1, max: 1, names: 'the image' });
    const type = stringFlag(flags, 'type') ?? 'all';
    const kinds = KINDS[type];
    if (!kinds) throw usageError('clean', `--type takes signature, attestation, sbom or all, not "${type}"`);
    const image = flags.positionals[0]!;
    const result = await cleanAttachments(registryClient(context, flags), image, kinds, context.env);
    return {
      text: '',
      data: result,
      notes: result.removed.length ? result.removed.map((r) => `Removed ${r}`) : [`Nothing to remove for ${image}`],
    };
  },
};

export default command;
