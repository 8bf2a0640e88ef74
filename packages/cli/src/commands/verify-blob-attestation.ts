import { access } from 'node:fs/promises';
import { CosignkitError, digestFile } from '@cosignkit/core';
import { resolveVerificationKey } from 'cosignkit';
import {
  IN_TOTO_PAYLOAD_TYPE,
  readEnvelopeFile,
  readStatement,
  resolvePredicateType,
  subjectHasDigest,
  trustedKey,
  verifyEnvelope,
} from '@cosignkit/dsse';
import { booleanFlag, parseFlags, stringFlag } from '../args.js';
import type { Command, CommandResult } from '../command.js';
import { usageError } from '../usage-error.js';
import { KEYLESS_FLAGS, KEYLESS_HELP, isKeyless, verifyBlobAttestationKeyless } from '../keyless-verify-options.js';

const FLAGS = {
  key: { type: 'string' },
  signature: { type: 'string' },
  bundle: { type: 'string' },
  type: { type: 'string' },
  'check-claims': { type: 'boolean' },
  'insecure-ignore-tlog': { type: 'boolean' },
  'new-bundle-format': { type: 'boolean' },
  'trusted-root': { type: 'string' },
  ...KEYLESS_FLAGS,
} as const;

const command: Command = {
  summary: 'verify a file attestation (DSSE envelope or bundle) against a public key',
  configOnUse: true,
  help: `Usage: cosignkit verify-blob-attestation --key <pub|ref> (--signature <file> | --bundle <file>) [--type <name|URI>] [flags] <file>

Verifies an attestation of <file> as "cosign verify-blob-attestation --insecure-ignore-tlog" does: a
signature by the key over the envelope, the predicate type, and a subject whose sha256 is <file>'s.
Exit code 2 when verification fails, 3 when the envelope, bundle or key cannot be parsed.

Flags:
  --key <pub|ref>              a PEM public key file, or any key reference (its public key is used)
  --signature <file>           the DSSE envelope (as attest-blob --output-file writes it; base64 accepted)
  --bundle <file>              a Sigstore bundle carrying the envelope (or cosign's legacy bundle)
  --type <name|URI>            the expected predicate type (default custom, as cosign)
  --check-claims[=bool]        check the subject digest against <file> (default true)
  --insecure-ignore-tlog       accepted; cosignkit checks no transparency log for key signatures yet
  --trusted-root <file>        accepted (must exist); key-based verification needs no trust root
  --new-bundle-format          accepted; the bundle's format is read from the file

${KEYLESS_HELP}`,
  async run(context) {
    const flags = parseFlags('verify-blob-attestation', context.argv, FLAGS, {
      min: 0,
      max: 1,
      names: 'the file to verify',
    });
    const signature = stringFlag(flags, 'signature');
    const bundle = stringFlag(flags, 'bundle');
    if ((signature === undefined) === (bundle === undefined)) {
      throw usageError('verify-blob-attestation', 'pass one of --signature <file> or --bundle <file>');
    }
    const checkClaims = booleanFlag(flags, 'check-claims') ?? true;
    const file = flags.positionals[0];
    if (checkClaims && file === undefined) throw usageError('verify-blob-attestation', 'missing the file to verify');
    if (isKeyless('verify-blob-attestation', flags, context)) {
      const expectedType = resolvePredicateType(stringFlag(flags, 'type') ?? 'custom');
      return verifyBlobAttestationKeyless(context, flags, { file, checkClaims, expectedType });
    }
    const keyText = stringFlag(flags, 'key') ?? context.config.defaultKey;
    if (keyText === undefined)
      throw usageError('verify-blob-attestation', 'no key: pass --key <public key file or ref>');
    const expectedType = resolvePredicateType(stringFlag(flags, 'type') ?? 'custom');
    const trustedRoot = stringFlag(flags, 'trusted-root');
    if (trustedRoot !== undefined) {
      await access(trustedRoot).catch((error: unknown) => {
        throw new CosignkitError('FILE_NOT_FOUND', `--trusted-root ${trustedRoot}: no such file`, { cause: error });
      });
    }

    const source = await readEnvelopeFile((signature ?? bundle)!);
    const { envelope } = source;
    if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
      throw new CosignkitError(
        'ENVELOPE_MALFORMED',
        `envelope payloadType is "${envelope.payloadType}", not an in-toto attestation (${IN_TOTO_PAYLOAD_TYPE})`,
      );
    }
    const statement = readStatement(envelope.payload);
    const { publicKey } = await resolveVerificationKey(keyText, context.keys);
    const key = trustedKey(publicKey, undefined, true);
    const verification = verifyEnvelope(envelope, [key]);
    const data = {
      verified: false,
      predicateType: statement.predicateType,
      subjects: statement.subject,
      signatures: verification.signatures,
      key: { fingerprint: key.fingerprint, algorithm: key.algorithm },
      form: source.form,
    };
    const fail = (message: string): CommandResult => ({
      exitCode: 2,
      data: { ...data, failure: message },
      notes: [`cosignkit: verification failed: ${message} [VERIFICATION_FAILED]`],
    });
    // As cosign (go-securesystemslib): one signature by the key suffices; others may be by other keys.
    if (verification.validSigners.length === 0) return fail('no signature in the envelope verifies with the key');
    if (source.certificateKey && !source.certificateKey.equals(publicKey)) {
      return fail("the legacy bundle's cert is another key than the one given");
    }
    if (statement.predicateType !== expectedType) {
      return fail(`invalid predicate type, expected ${expectedType} got ${statement.predicateType}`);
    }
    if (checkClaims) {
      const digest = (await digestFile(file!, 'sha256', { signal: context.signal })).toString('hex');
      if (!statement.subject.some((s) => subjectHasDigest(s, 'sha256', digest))) {
        return fail(`no subject has the sha256 digest of ${file} (${digest})`);
      }
    }
    return { text: 'Verified OK', data: { ...data, verified: true } };
  },
};

export default command;
