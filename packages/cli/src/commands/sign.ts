import { createSigner } from 'cosignkit';
import { redactKeyRef } from '@cosignkit/core';
import { booleanFlag, parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { usageError } from '../usage-error.js';
import {
  ociRoleOptions,
  parseAnnotations,
  parseFormat,
  REGISTRY_FLAGS,
  REGISTRY_HELP,
  requireKey,
} from './oci-shared.js';

const FLAGS = {
  key: { type: 'string' },
  format: { type: 'string' },
  annotations: { type: 'string', short: 'a', multiple: true },
  'tlog-upload': { type: 'boolean' },
  'use-signing-config': { type: 'boolean' },
  'new-bundle-format': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  ...REGISTRY_FLAGS,
} as const;

const command: Command = {
  summary: 'sign a container image (or any OCI artifact) in its registry',
  help: `Usage: cosignkit sign --key <ref> [--format legacy|bundle] [-a key=value]... [flags] <image>

Signs <image> as "cosign sign --key … --tlog-upload=false" does. A tag is resolved first: the digest is
what gets signed, always. Formats: legacy (cosign 2.x: a simple-signing layer in the
sha256-<hex>.sig image) and bundle (cosign 3: a Sigstore bundle pushed as an OCI 1.1 referrer, with the
sha256-<hex> fallback index on registries without the Referrers API). Default: legacy with
--engine cosign (what cosign 2.x writes), bundle natively. COSIGN_REPOSITORY is honoured.

Flags:
  --key <ref>                  the key: cosign.key, file:…, pkcs11:…, tpm:…, keyring:…
  --format legacy|bundle       the layout to write
  -a, --annotations key=value  an annotation signed with the image (repeatable)
  --tlog-upload=false          accepted; no transparency-log upload yet (=true is refused)
  --new-bundle-format[=bool]   cosign 3 spelling: true means --format bundle, false --format legacy
  -y, --yes                    accepted for cosign compatibility
${REGISTRY_HELP}`,
  async run(context) {
    const flags = parseFlags('sign', context.argv, FLAGS, { min: 1, max: 1, names: 'the image to sign' });
    for (const name of ['tlog-upload', 'use-signing-config']) {
      if (booleanFlag(flags, name) === true)
        throw usageError('sign', `--${name}=true: transparency-log upload is not supported yet; use --${name}=false`);
    }
    const nbf = booleanFlag(flags, 'new-bundle-format');
    const format =
      parseFormat('sign', stringFlag(flags, 'format')) ?? (nbf === undefined ? undefined : nbf ? 'bundle' : 'legacy');
    const key = requireKey('sign', stringFlag(flags, 'key') ?? context.config.defaultKey);
    const signer = createSigner(ociRoleOptions(context, flags));
    const result = await signer.signArtifact(flags.positionals[0]!, {
      key,
      ...(format ? { format } : {}),
      annotations: parseAnnotations('sign', flags.values.annotations),
      signal: context.signal,
    });
    return {
      text: '',
      data: { ...result, key: redactKeyRef(key) },
      notes: [
        `engine: ${result.engine}`,
        `Signed ${result.image} (${result.format})${result.location ? `: ${result.location}` : ''}`,
      ],
    };
  },
};

export default command;
