import { attestImageWithSigstore, createAttester } from 'cosignkit';
import { redactKeyRef } from '@cosignkit/core';
import { booleanFlag, parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { usageError } from '../usage-error.js';
import { imageKeylessHelp, KEYLESS_SIGN_FLAGS, prepareSigner, signingMode } from '../keyless-sign-options.js';
import { jobsFlag } from '../batch/batch-flags.js';
import { runImageBatch, sigstoreImageOutcome } from './image-batch.js';
import { ociRoleOptions, parseFormat, REGISTRY_FLAGS, REGISTRY_HELP } from './oci-shared.js';
import { registryClient } from './registry-client.js';

const FLAGS = {
  key: { type: 'string' },
  predicate: { type: 'string' },
  type: { type: 'string' },
  format: { type: 'string' },
  'new-bundle-format': { type: 'boolean' },
  'tlog-upload': { type: 'boolean' },
  'use-signing-config': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  jobs: { type: 'string', short: 'j' },
  'fail-fast': { type: 'boolean' },
  ...KEYLESS_SIGN_FLAGS,
  ...REGISTRY_FLAGS,
} as const;

const command: Command = {
  summary: 'attest a container image: sign an in-toto statement about it into its registry',
  help: `Usage: cosignkit attest [--key <ref>] --predicate <file> [--type <name|URI>] [--format legacy|bundle] [flags] <image>...

Signs, for each <image>, an in-toto statement (v0.1, as cosign 2.x) whose subject is its digest, as
"cosign attest --key … --tlog-upload=false" does. legacy: a DSSE layer in the sha256-<hex>.att image;
bundle: a Sigstore-bundle referrer (cosign attest --new-bundle-format). Default: legacy with --engine
cosign, bundle natively. Keyless (no --key, an identity token) and --key with --tlog-upload write the
legacy layout as cosign 2.5 does: the .att layer carries the certificate, chain and the Rekor bundle of a
dsse entry; "cosign verify-attestation --certificate-identity …" verifies it. With --format bundle,
the envelope's Sigstore bundle is pushed as a referrer instead (a Rekor v1 or v2 log).

Flags:
  --key <ref>                  the key
  --predicate <file>           the predicate (JSON; any text for custom)
  --type <name|URI>            custom (default), slsaprovenance, slsaprovenance1, spdx, spdxjson, cyclonedx,
                               vuln, openvex, link, or a URI
  --format legacy|bundle       the layout to write
  --new-bundle-format[=bool]   cosign's spelling of --format bundle / legacy
  --tlog-upload[=bool]         with --key: =true logs the envelope in Rekor (default false: offline)
  -y, --yes                    accepted for cosign compatibility
  -j, --jobs <n>               images attested at once (default 4)
  --fail-fast                  stop at the first failure

${imageKeylessHelp()}
${REGISTRY_HELP}`,
  async run(context) {
    const flags = parseFlags('attest', context.argv, FLAGS, {
      min: 1,
      max: Number.POSITIVE_INFINITY,
      names: 'the images to attest',
    });
    const predicatePath = stringFlag(flags, 'predicate');
    if (predicatePath === undefined) throw usageError('attest', 'missing --predicate <file>');
    const type = stringFlag(flags, 'type') ?? 'custom';
    const nbf = booleanFlag(flags, 'new-bundle-format');
    const format =
      parseFormat('attest', stringFlag(flags, 'format')) ?? (nbf === undefined ? undefined : nbf ? 'bundle' : 'legacy');
    const mode = signingMode('attest', flags, context);
    const batch = {
      jobs: jobsFlag('attest', flags) ?? 4,
      failFast: booleanFlag(flags, 'fail-fast') === true,
      signal: context.signal,
    };
    // One registry client for every image: its token cache is shared.
    const roleOptions = { ...ociRoleOptions(context, flags), client: registryClient(context, flags) };
    const payloadNote = `Using payload from: ${predicatePath}`;
    if (mode.kind !== 'key') {
      const prepared = await prepareSigner('attest', mode, flags, context, { legacyImage: format !== 'bundle' });
      return runImageBatch('attest', 'attested', flags.positionals, batch, async (image) => {
        const result = await attestImageWithSigstore(roleOptions, image, {
          signer: prepared.signer,
          predicate: predicatePath,
          type,
          ...(format ? { format } : {}),
          ...(prepared.chain ? { chain: prepared.chain } : {}),
          ...(prepared.check ? { check: (bundle) => prepared.check!(bundle, undefined) } : {}),
          signal: context.signal,
        });
        return sigstoreImageOutcome('Attested', mode, prepared, result, [payloadNote]);
      });
    }
    const key = mode.key;
    const attester = createAttester(roleOptions);
    return runImageBatch('attest', 'attested', flags.positionals, batch, async (image) => {
      const result = await attester.attestArtifact(image, {
        key,
        predicate: predicatePath,
        type,
        ...(format ? { format } : {}),
        signal: context.signal,
      });
      return {
        data: { ...result, key: redactKeyRef(key) },
        notes: [`engine: ${result.engine}`, payloadNote],
        note: `Attested ${result.image} (${result.format})${result.location ? `: ${result.location}` : ''}`,
      };
    });
  },
};

export default command;
