import { cleanAttachments, type AttachmentKind } from '@cosignkit/oci';
import { booleanFlag, parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { confirmOnTerminal } from '../secrets.js';
import { usageError } from '../usage-error.js';
import { REGISTRY_FLAGS, REGISTRY_HELP } from './oci-shared.js';
import { registryClient } from './registry-client.js';

const FLAGS = {
  type: { type: 'string' },
  force: { type: 'boolean', short: 'f' },
  yes: { type: 'boolean', short: 'y' },
  ...REGISTRY_FLAGS,
} as const;

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
referrers (with their fallback index when no referrer is left). On a terminal it asks first unless
--yes (or -f, cosign's spelling); without a terminal it does not ask.

Flags:
  --type <kind>                signature, attestation, sbom or all (default all)
  -y, --yes                    do not ask
  -f, --force                  the same as --yes (cosign's name)
${REGISTRY_HELP}`,
  async run(context) {
    const flags = parseFlags('clean', context.argv, FLAGS, { min: 1, max: 1, names: 'the image' });
    const type = stringFlag(flags, 'type') ?? 'all';
    const kinds = KINDS[type];
    if (!kinds) throw usageError('clean', `--type takes signature, attestation, sbom or all, not "${type}"`);
    const image = flags.positionals[0]!;
    const confirmed = booleanFlag(flags, 'yes') === true || booleanFlag(flags, 'force') === true;
    if (!confirmed && process.stdin.isTTY) {
      const answer = await confirmOnTerminal(
        `Remove the ${type === 'all' ? 'signatures and attestations' : `${type}s`} attached to ${image}? [y/N] `,
      );
      if (answer === false) return { text: '', data: { removed: [], image, confirmed: false }, notes: ['Not removed'] };
    }
    const result = await cleanAttachments(registryClient(context, flags), image, kinds, context.env);
    return {
      text: '',
      data: result,
      notes: result.removed.length ? result.removed.map((r) => `Removed ${r}`) : [`Nothing to remove for ${image}`],
    };
  },
};

export default command;
