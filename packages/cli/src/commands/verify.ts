import { createVerifier } from 'cosignkit';
import { parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { escapeForTerminal } from '@cosignkit/core';
import { annotationsOf, filterByAnnotations } from './annotation-filter.js';
import {
  ociRoleOptions,
  parseAnnotations,
  REGISTRY_FLAGS,
  REGISTRY_HELP,
  requireKey,
  verificationOutcome,
} from './oci-shared.js';

const FLAGS = {
  key: { type: 'string', multiple: true },
  'insecure-ignore-tlog': { type: 'boolean' },
  'new-bundle-format': { type: 'boolean' },
  'trusted-root': { type: 'string' },
  annotations: { type: 'string', short: 'a', multiple: true },
  ...REGISTRY_FLAGS,
} as const;

const command: Command = {
  summary: 'verify the signatures of a container image in its registry',
  help: `Usage: cosignkit verify --key <pub|ref> [--insecure-ignore-tlog] [flags] <image>

Verifies <image> as "cosign verify --key … --insecure-ignore-tlog" does: signatures are looked for in both
layouts (the sha256-<hex>.sig image and Sigstore-bundle referrers) and each is checked against the key.
A tag is resolved first: signatures of the digest it names now are what count. Prints the verified
payloads as JSON. Exit 2 when no signature verifies (none found included), 3 when all are malformed.
The engine is native unless --engine cosign is given (cosign 2.x reads only the .sig layout).

Flags:
  --key <pub|ref>              a PEM public key file or any key reference (repeatable: any key may sign)
  --insecure-ignore-tlog       accepted; key signatures are checked without a transparency log
  --new-bundle-format          accepted; both layouts are always read
  --trusted-root <file>        accepted for cosign compatibility
  -a, --annotations key=value  only signatures whose payload carries this annotation count (repeatable;
                               all must match), as cosign; the annotations of each are listed on stderr
${REGISTRY_HELP}`,
  async run(context) {
    const flags = parseFlags('verify', context.argv, FLAGS, { min: 1, max: 1, names: 'the image to verify' });
    const keys =
      (flags.values.key as string[] | undefined) ?? (context.config.defaultKey ? [context.config.defaultKey] : []);
    requireKey('verify', keys[0]);
    const verifier = createVerifier(ociRoleOptions(context, flags));
    const wanted = parseAnnotations('verify', flags.values.annotations);
    const result = filterByAnnotations(
      await verifier.verifyRegistry(flags.positionals[0]!, { key: keys, signal: context.signal }),
      wanted,
    );
    const outcome = verificationOutcome(result, 'signatures');
    if (!result.verified) return outcome;
    // The result lists each verified signature's annotations (registry text: escaped before printing).
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
  },
};

export default command;
