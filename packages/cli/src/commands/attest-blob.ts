import { readFile, unlink } from 'node:fs/promises';
import { digestFile, fileError, redactKeyRef } from '@cosignkit/core';
import {
  cosignStatementPayload,
  envelopeToJson,
  IN_TOTO_PAYLOAD_TYPE,
  resolvePredicateType,
  serializeDsseBundle,
  serializeEnvelope,
  serializeLegacyAttestationBundle,
  signEnvelope,
  subjectsFromFiles,
} from '@cosignkit/dsse';
import { basename } from 'node:path';
import { booleanFlag, parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { attestBlobWithServices, KEYLESS_SIGN_FLAGS, KEYLESS_SIGN_HELP, signingMode } from '../keyless-sign-options.js';
import { usageError } from '../usage-error.js';
import { writeOutput } from '../write-output.js';

const FLAGS = {
  key: { type: 'string' },
  predicate: { type: 'string' },
  type: { type: 'string' },
  bundle: { type: 'string' },
  'output-file': { type: 'string' },
  'new-bundle-format': { type: 'boolean' },
  'tlog-upload': { type: 'boolean' },
  'use-signing-config': { type: 'boolean' },
  'statement-version': { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  ...KEYLESS_SIGN_FLAGS,
} as const;

const command: Command = {
  summary: 'attest a file: sign an in-toto statement about it as a DSSE envelope',
  help: `Usage: cosignkit attest-blob --key <ref> --predicate <file> [--type <name|URI>] [--output-file <file>] [--bundle <file>] [flags] <file>

Signs an in-toto statement whose subject is <file> and whose predicate is read from --predicate, as
"cosign attest-blob --key … --tlog-upload=false" does, byte for byte in the statement. Without
--output-file the envelope is printed on stdout.

Flags:
  --key <ref>                  the key: cosign.key, file:…, pkcs11:…, tpm:…, keyring:… (default: the
                               configured default key)
  --predicate <file>           the predicate (JSON; any text for --type custom or spdx)
  --type <name|URI>            custom (default), slsaprovenance, slsaprovenance02, slsaprovenance1, link, spdx,
                               spdxjson, cyclonedx, vuln, openvex, or a predicate type URI
  --output-file <file>         write the DSSE envelope to <file>
  --bundle <file>              write a Sigstore v0.3 bundle carrying the envelope to <file>
  --new-bundle-format[=bool]   default true; --new-bundle-format=false writes cosign's legacy bundle
  --statement-version <v>      v0.1 (default, as cosign 2.x writes) or v1 (in-toto Statement v1, subjects
                               with sha256 and sha512 digests)
  --use-signing-config[=bool]  =true with --key: upload to the log (public good's, or --signing-config's)
  -y, --yes                    accepted for cosign compatibility

\${KEYLESS_SIGN_HELP}`,
  async run(context) {
    const flags = parseFlags('attest-blob', context.argv, FLAGS, { min: 1, max: 1, names: 'the file to attest' });
    const mode = signingMode('attest-blob', flags, context);
    const predicatePath = stringFlag(flags, 'predicate');
    if (predicatePath === undefined) throw usageError('attest-blob', 'missing --predicate <file>');
    const type = stringFlag(flags, 'type') ?? 'custom';
    const predicateType = resolvePredicateType(type);
    const version = stringFlag(flags, 'statement-version') ?? 'v0.1';
    if (version !== 'v0.1' && version !== 'v1') throw usageError('attest-blob', '--statement-version takes v0.1 or v1');
    const outputFile = stringFlag(flags, 'output-file');
    const bundlePath = stringFlag(flags, 'bundle');
    const legacyBundle = booleanFlag(flags, 'new-bundle-format') === false;
    const file = flags.positionals[0]!;

    const subjects = version === 'v1'
      ? await subjectsFromFiles([file])
      : [{ name: basename(file), digest: { sha256: (await digestFile(file, 'sha256', { signal: context.signal })).toString('hex') } }];
    const predicate = await readFile(predicatePath).catch((error: unknown) => {
      throw fileError(predicatePath, error);
    });
    const payload = cosignStatementPayload({ type, predicate, subjects, version });
    if (mode.kind !== 'key') {
      const signed = await attestBlobWithServices('attest-blob', mode, flags, context, { payloadType: IN_TOTO_PAYLOAD_TYPE, bytes: Buffer.from(payload) });
      const written: string[] = [];
      try {
        if (outputFile !== undefined) {
          await writeOutput(outputFile, `${signed.envelopeText}\n`);
          written.push(outputFile);
        }
        await writeOutput(bundlePath!, `${JSON.stringify(signed.bundle)}\n`);
      } catch (error) {
        await Promise.all(written.map((p) => unlink(p).catch(() => undefined)));
        throw error;
      }
      return {
        text: outputFile === undefined ? signed.envelopeText : '',
        data: { predicateType, subjects, mode: mode.kind, ...(signed.identity ? { identity: signed.identity } : {}), bundlePath, ...(outputFile !== undefined ? { outputFile } : {}) },
        notes: [`Using payload from: ${file}`, `Using predicate from: ${predicatePath}`, ...signed.notes, ...(outputFile !== undefined ? [`Wrote envelope to ${outputFile}`] : []), `Wrote bundle to ${bundlePath}`],
      };
    }
    const key = mode.key;
    const opened = await context.registry.open(key);
    // As cosign: keyid "" (verifiers try their key rather than match a hint), and ECDSA over SHA-256 whatever
    // the curve, which is what cosign verifies a P-384 key with.
    const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, payload,
      [{ manager: opened.manager, keyId: opened.keyId, keyid: '', hash: 'sha256' }], { signal: context.signal });
    const envelopeText = serializeEnvelope(envelope);

    const written: string[] = [];
    try {
      if (outputFile !== undefined) {
        await writeOutput(outputFile, `${envelopeText}\n`);
        written.push(outputFile);
      }
      if (bundlePath !== undefined) {
        const publicKey = await opened.manager.getPublicKey(opened.keyId);
        const bundle = legacyBundle
          ? serializeLegacyAttestationBundle(envelopeText, await opened.manager.getPublicKeyPem(opened.keyId))
          : serializeDsseBundle({ ...envelope, signatures: envelope.signatures.map((s) => ({ sig: s.sig })) }, publicKey);
        await writeOutput(bundlePath, bundle, 0o600);
        written.push(bundlePath);
      }
    } catch (error) {
      // All outputs or none.
      await Promise.all(written.map((p) => unlink(p).catch(() => undefined)));
      throw error;
    }
    const notes = [`Using payload from: ${file}`, `Using predicate from: ${predicatePath}`];
    if (outputFile !== undefined) notes.push(`Wrote envelope to ${outputFile}`);
    if (bundlePath !== undefined) notes.push(`Wrote bundle to ${bundlePath}`);
    return {
      text: outputFile === undefined ? envelopeText : '',
      data: {
        predicateType,
        subjects,
        key: redactKeyRef(key),
        envelope: envelopeToJson(envelope),
        ...(outputFile !== undefined ? { outputFile } : {}),
        ...(bundlePath !== undefined ? { bundlePath } : {}),
      },
      notes,
    };
  },
};

export default command;
