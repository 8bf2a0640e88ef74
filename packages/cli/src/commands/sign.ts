import { createSigner, signImageWithSigstore } from 'cosignkit';
import { redactKeyRef } from '@cosignkit/core';
import { booleanFlag, parseFlags, stringFlag } from '../args.js';
import { jobsFlag } from '../batch/batch-flags.js';
import type { Command } from '../command.js';
import { imageKeylessHelp, KEYLESS_SIGN_FLAGS, prepareSigner, signingMode } from '../keyless-sign-options.js';
import { usageError } from '../usage-error.js';
import { runImageBatch, sigstoreImageOutcome } from './image-batch.js';
import { ociRoleOptions, parseAnnotations, parseFormat, REGISTRY_FLAGS, REGISTRY_HELP } from './oci-shared.js';
import { registryClient } from './registry-client.js';

const FLAGS = {
  key: { type: 'string' },
  format: { type: 'string' },
  annotations: { type: 'string', short: 'a', multiple: true },
  'tlog-upload': { type: 'boolean' },
  'use-signing-config': { type: 'boolean' },
  'new-bundle-format': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  jobs: { type: 'string', short: 'j' },
  'fail-fast': { type: 'boolean' },
  ...KEYLESS_SIGN_FLAGS,
  ...REGISTRY_FLAGS,
} as const;

const command: Command = {
  summary: 'sign container images (or any OCI artifact) in their registry, with a key or keyless',
  help: `Usage: cosignkit sign [--key <ref>] [--format legacy|bundle] [-a key=value]... [flags] <image>...

Signs each <image> as "cosign sign" does. A tag is resolved first: the digest is what gets signed,
always. With --key (and no log flag) as "cosign sign --key … --tlog-upload=false"; formats: legacy
(cosign 2.x: a simple-signing layer in the sha256-<hex>.sig image) and bundle (cosign 3: a Sigstore
bundle pushed as an OCI 1.1 referrer, with the sha256-<hex> fallback index on registries without the
Referrers API). Default: legacy with --engine cosign (what cosign 2.x writes), bundle natively.
Keyless (no --key, an identity token) and --key with --tlog-upload write the legacy layout as cosign 2.5
does by default: the layer carries the certificate and chain (dev.sigstore.cosign/certificate, /chain),
the Rekor entry's signed bundle (dev.sigstore.cosign/bundle, a hashedrekord over the payload) and, with
a timestamp authority, dev.sigstore.cosign/rfc3161timestamp; "cosign verify --certificate-identity …"
verifies it. With --format bundle they write cosign 3's layout instead: the signing statement's
Sigstore bundle (certificate, log entry, timestamps) as a referrer, on a Rekor v1 or v2 log.
COSIGN_REPOSITORY is honoured.

Several images are signed -j at a time; each failure is one line, then a summary; exit 0 only when every
image was signed, 1 otherwise.

Flags:
  --key <ref>                  the key: cosign.key, file:…, pkcs11:…, tpm:…, keyring:…
  --format legacy|bundle       the layout to write
  -a, --annotations key=value  an annotation signed with the image (repeatable)
  --tlog-upload[=bool]         with --key: =true logs the signature in Rekor (default false: offline)
  --new-bundle-format[=bool]   cosign 3 spelling: true means --format bundle, false --format legacy
  -j, --jobs <n>               images signed at once (default 4)
  --fail-fast                  stop at the first failure
  -y, --yes                    accepted for cosign compatibility

${imageKeylessHelp()}
${REGISTRY_HELP}`,
  async run(context) {
    const flags = parseFlags('sign', context.argv, FLAGS, {
      min: 1,
      max: Number.POSITIVE_INFINITY,
      names: 'the images to sign',
    });
    const nbf = booleanFlag(flags, 'new-bundle-format');
    const format =
      parseFormat('sign', stringFlag(flags, 'format')) ?? (nbf === undefined ? undefined : nbf ? 'bundle' : 'legacy');
    const annotations = parseAnnotations('sign', flags.values.annotations);
    const mode = signingMode('sign', flags, context);
    const batch = {
      jobs: jobsFlag('sign', flags) ?? 4,
      failFast: booleanFlag(flags, 'fail-fast') === true,
      signal: context.signal,
    };
    // One registry client for every image: its token cache is shared.
    const roleOptions = { ...ociRoleOptions(context, flags), client: registryClient(context, flags) };
    if (mode.kind === 'key') {
      if (booleanFlag(flags, 'use-signing-config') === true)
        throw usageError('sign', '--use-signing-config=true needs a log: pass --tlog-upload or --signing-config');
      const signer = createSigner(roleOptions);
      return runImageBatch('sign', 'signed', flags.positionals, batch, async (image) => {
        const result = await signer.signArtifact(image, {
          key: mode.key,
          ...(format ? { format } : {}),
          ...(annotations ? { annotations } : {}),
          signal: context.signal,
        });
        return {
          data: { ...result, key: redactKeyRef(mode.key) },
          notes: [`engine: ${result.engine}`],
          note: `Signed ${result.image} (${result.format})${result.location ? `: ${result.location}` : ''}`,
        };
      });
    }
    const prepared = await prepareSigner('sign', mode, flags, context, { legacyImage: format !== 'bundle' });
    return runImageBatch('sign', 'signed', flags.positionals, batch, async (image) => {
      const result = await signImageWithSigstore(roleOptions, image, {
        signer: prepared.signer,
        ...(prepared.chain ? { chain: prepared.chain } : {}),
        ...(prepared.check
          ? {
              check: (bundle, digest) =>
                prepared.check!(bundle, digest ? { digest: { algorithm: 'sha256', value: digest } } : undefined),
            }
          : {}),
        ...(annotations ? { annotations } : {}),
        ...(format ? { format } : {}),
        signal: context.signal,
      });
      return sigstoreImageOutcome('Signed', mode, prepared, result);
    });
  },
};

export default command;
