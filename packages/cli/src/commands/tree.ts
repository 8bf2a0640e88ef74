import { escapeForTerminal } from '@cosignkit/core';
import { listAttachments } from '@cosignkit/oci';
import { parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { REGISTRY_FLAGS, REGISTRY_HELP } from './oci-shared.js';
import { registryClient } from './registry-client.js';

const NAMES = { signature: 'Signatures', attestation: 'Attestations', sbom: 'SBOMs' } as const;

const command: Command = {
  summary: 'show the signatures, attestations and SBOMs attached to an image',
  help: `Usage: cosignkit tree [flags] <image>

Lists what is attached to <image>, as "cosign tree" does: cosign's sha256-<hex>.sig/.att/.sbom tag
images with their layers, and Sigstore-bundle referrers.

Flags:
${REGISTRY_HELP}`,
  async run(context) {
    const flags = parseFlags('tree', context.argv, REGISTRY_FLAGS, { min: 1, max: 1, names: 'the image' });
    const image = flags.positionals[0]!;
    const listed = await listAttachments(registryClient(context, flags), image, context.env);
    const lines = [`📦 Supply Chain Security Related artifacts for an image: ${image}`];
    if (listed.attachments.length === 0) lines.push('No Supply Chain Security Related Artifacts found for image');
    for (const a of listed.attachments) {
      lines.push(
        a.via === 'tag'
          ? `└── 🔐 ${NAMES[a.kind]} for an image tag: ${listed.repository}:${a.reference}`
          : `└── 🔗 ${NAMES[a.kind]} (Sigstore bundle referrer): ${listed.repository}@${a.reference}`,
      );
      for (const item of a.items) lines.push(`   └── ${a.via === 'tag' ? '🍒' : '📜'} ${item}`);
    }
    // The references and items are the registry's text: each line is escaped, so none can fake another.
    return { text: lines.map(escapeForTerminal).join('\n'), data: listed };
  },
};

export default command;
