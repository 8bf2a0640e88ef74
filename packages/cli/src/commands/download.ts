import { downloadAttestations, downloadSignatures } from '@cosignkit/oci';
import { parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { usageError } from '../usage-error.js';
import { REGISTRY_FLAGS, REGISTRY_HELP } from './oci-shared.js';
import { registryClient } from './registry-client.js';

const command: Command = {
  summary: 'print the signatures or attestations attached to an image',
  help: `Usage: cosignkit download signature|attestation [flags] <image>

Prints one JSON object per line, as "cosign download" does: for signatures cosign's
{"Base64Signature","Payload",…} objects (legacy .sig layers) and the Sigstore bundles of signature
referrers; for attestations the DSSE envelopes (.att layers) and attestation bundles.

Flags:
${REGISTRY_HELP}`,
  async run(context) {
    const flags = parseFlags('download', context.argv, REGISTRY_FLAGS, {
      min: 2,
      max: 2,
      names: 'signature|attestation and the image',
    });
    const [what, image] = flags.positionals as [string, string];
    if (what !== 'signature' && what !== 'attestation')
      throw usageError('download', `unknown kind "${what}": use signature or attestation`);
    const client = registryClient(context, flags);
    const items =
      what === 'signature'
        ? await downloadSignatures(client, image, context.env)
        : await downloadAttestations(client, image, context.env);
    return { text: items.map((i) => JSON.stringify(i)).join('\n'), data: items };
  },
};

export default command;
