import { createAttester } from 'cosignkit';
import { redactKeyRef } from '@cosignkit/core';
import { booleanFlag, parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { usageError } from '../usage-error.js';
import { ociRoleOptions, parseFormat, REGISTRY_FLAGS, REGISTRY_HELP, requireKey } from './oci-shared.js';

const FLAGS = {
  key: { type: 'string' },
  predicate: { type: 'string' },
  type: { type: 'string' },
  format: { type: 'string' },
  'new-bundle-format': { type: 'boolean' },
  'tlog-upload': { type: 'boolean' },
  'use-signing-config': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  ...REGISTRY_FLAGS,
} as const;

const command: Command = {
  summary: 'attest a container image: sign an in-toto statement about it into its registry',
  help: `Usage: cosignkit attest --key <ref> --predicate <file> [--type <name|URI>] [--format legacy|bundle] [flags] <image>

Signs an in-toto statement (v0.1, as cosign 2.x) whose subject is <image>'s digest, as
"cosign attest --key … --tlog-upload=false" does. legacy: a DSSE layer in the sha256-<hex>.att image;
bundle: a Sigstore-bundle referrer (cosign attest --new-bundle-format). Default: legacy with --engine
cosign, bundle natively.

Flags:
  --key <ref>                  the key
  --predicate <file>           the predicate (JSON; any text for custom)
  --type <name|URI>            custom (default), slsaprovenance, slsaprovenance1, spdx, spdxjson, cyclonedx,
                               vuln, openvex, link, or a URI
  --format legacy|bundle       the layout to write
  --new-bundle-format[=bool]   cosign's spelling of --format bundle / legacy
  --tlog-upload=false          accepted; no transparency-log upload yet
  -y, --yes                    accepted for cosign compatibility
${REGISTRY_HELP}`,
  async run(context) {
    const flags = parseFlags('attest', context.argv, FLAGS, { min: 1, max: 1, names: 'the image to attest' });
    for (const name of ['tlog-upload', 'use-signing-config']) {
      if (booleanFlag(flags, name) === true)
        throw usageError('attest', `--${name}=true: transparency-log upload is not supported yet; use --${name}=false`);
    }
    const predicatePath = stringFlag(flags, 'predicate');
    if (predicatePath === undefined) throw usageError('attest', 'missing --predicate <file>');
    const type = stringFlag(flags, 'type') ?? 'custom';
    const nbf = booleanFlag(flags, 'new-bundle-format');
    const format =
      parseFormat('attest', stringFlag(flags, 'format')) ?? (nbf === undefined ? undefined : nbf ? 'bundle' : 'legacy');
    const key = requireKey('attest', stringFlag(flags, 'key') ?? context.config.defaultKey);
    const attester = createAttester(ociRoleOptions(context, flags));
    const result = await attester.attestArtifact(flags.positionals[0]!, {
      key,
      predicate: predicatePath,
      type,
      ...(format ? { format } : {}),
      signal: context.signal,
    });
    return {
      text: '',
      data: { ...result, key: redactKeyRef(key) },
      notes: [
        `engine: ${result.engine}`,
        `Using payload from: ${predicatePath}`,
        `Attested ${result.image} (${result.format})${result.location ? `: ${result.location}` : ''}`,
      ],
    };
  },
};

export default command;
