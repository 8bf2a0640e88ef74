import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { commitOutputs, digestFile, fileError, parseKeyRef, redactKeyRef } from '@cosignkit/core';
import {
  attestationId,
  cosignStatementPayload,
  envelopeFromText,
  IN_TOTO_PAYLOAD_TYPE,
  resolvePredicateType,
  subjectsFromFiles,
} from '@cosignkit/dsse';
import { createAttester } from 'cosignkit';
import { booleanFlag, parseFlags, stringFlag } from '../args.js';
import { batchRequested } from '../batch/batch-flags.js';
import { ATTEST_BLOB_BATCH_FLAGS, ATTEST_BLOB_BATCH_HELP, runAttestBlobBatch } from '../batch/attest-blob-batch.js';
import type { Command } from '../command.js';
import { attestBlobWithServices, KEYLESS_SIGN_FLAGS, KEYLESS_SIGN_HELP, signingMode } from '../keyless-sign-options.js';
import { usageError } from '../usage-error.js';
import { attestBlobAndPush, keyNote, PUSH_FLAGS, PUSH_HELP, pushRequested } from './blob-push.js';
import { roleOptions } from '../role-options.js';

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
  keyid: { type: 'string' },
  'subject-name': { type: 'string' },
  canonical: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  ...KEYLESS_SIGN_FLAGS,
  ...PUSH_FLAGS,
} as const;

const command: Command = {
  summary: 'attest a file: sign an in-toto statement about it as a DSSE envelope',
  help: `Usage: cosignkit attest-blob --key <ref> --predicate <file> [--type <name|URI>] [--output-file <file>] [--bundle <file>] [flags] <file>

Signs an in-toto statement whose subject is <file> and whose predicate is read from --predicate, as
"cosign attest-blob --key … --tlog-upload=false" does, byte for byte in the statement. Without
--output-file the envelope is printed on stdout.
The engine follows --engine: cosign runs "cosign attest-blob" itself (other backends through the
sigstore-kms-cosignkit plugin), native signs in-process; auto picks as sign-blob does. The engine used is
noted on stderr.

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
  --keyid <id>                 the signature's keyid (default "", as cosign); e.g. the id a key map names
                               the key by, so verify-dsse --require-keyid can match it (native engine)
  --subject-name <name>        the subject's name instead of the file's base name, e.g.
                               git+https://github.com/OWNER/REPO@SHA for verify-dsse --require-repo (native)
  --canonical                  the statement in RFC 8785 (JCS) canonical JSON, as ReleaseGate signs (native)
  --use-signing-config[=bool]  =true with --key: upload to the log (public good's, or --signing-config's)
  -y, --yes                    accepted for cosign compatibility

${PUSH_HELP}

${KEYLESS_SIGN_HELP}
${ATTEST_BLOB_BATCH_HELP}`,
  async run(context) {
    // More than one input (or a glob, a directory, a batch flag): the batch path, in ../batch/.
    if (batchRequested('attest-blob', context.argv, { ...FLAGS, ...ATTEST_BLOB_BATCH_FLAGS }))
      return runAttestBlobBatch(context);
    const flags = parseFlags('attest-blob', context.argv, FLAGS, { min: 1, max: 1, names: 'the file to attest' });
    const mode = signingMode('attest-blob', flags, context);
    const predicatePath = stringFlag(flags, 'predicate');
    if (predicatePath === undefined) throw usageError('attest-blob', 'missing --predicate <file>');
    const type = stringFlag(flags, 'type') ?? 'custom';
    const version = stringFlag(flags, 'statement-version') ?? 'v0.1';
    if (version !== 'v0.1' && version !== 'v1') throw usageError('attest-blob', '--statement-version takes v0.1 or v1');
    const outputFile = stringFlag(flags, 'output-file');
    const bundlePath = stringFlag(flags, 'bundle');
    const legacyBundle = booleanFlag(flags, 'new-bundle-format') === false;
    const file = flags.positionals[0]!;
    const keyid = stringFlag(flags, 'keyid');
    const subjectName = stringFlag(flags, 'subject-name');
    const canonical = booleanFlag(flags, 'canonical') === true;
    if (subjectName !== undefined && (subjectName === '' || /[\u0000-\u001f\u007f]/.test(subjectName)))
      throw usageError('attest-blob', '--subject-name must be non-empty, without control characters');
    const statementFlags = keyid !== undefined || subjectName !== undefined || canonical;
    if (statementFlags && (mode.kind !== 'key' || pushRequested(flags)))
      throw usageError('attest-blob', '--keyid, --subject-name and --canonical go with a key and a local envelope');
    if (pushRequested(flags)) {
      if (mode.kind !== 'key') throw usageError('attest-blob', '--push attests with a key (--key or the default key)');
      if (version !== 'v0.1')
        throw usageError('attest-blob', '--push writes in-toto v0.1 statements, as cosign attest');
      return attestBlobAndPush(context, flags, stringFlag(flags, 'key'), predicatePath, type);
    }

    if (mode.kind !== 'key') {
      const subjects =
        version === 'v1'
          ? await subjectsFromFiles([file])
          : [
              {
                name: basename(file),
                digest: { sha256: (await digestFile(file, 'sha256', { signal: context.signal })).toString('hex') },
              },
            ];
      const predicate = await readFile(predicatePath).catch((error: unknown) => {
        throw fileError(predicatePath, error);
      });
      const payload = cosignStatementPayload({ type, predicate, subjects, version });
      const signed = await attestBlobWithServices('attest-blob', mode, flags, context, {
        payloadType: IN_TOTO_PAYLOAD_TYPE,
        bytes: Buffer.from(payload),
      });
      // All outputs or none.
      await commitOutputs([
        ...(outputFile !== undefined ? [{ path: outputFile, data: `${signed.envelopeText}\n` }] : []),
        { path: bundlePath!, data: `${JSON.stringify(signed.bundle)}\n` },
      ]);
      return {
        text: outputFile === undefined ? signed.envelopeText : '',
        data: {
          predicateType: resolvePredicateType(type),
          subjects,
          mode: mode.kind,
          ...(signed.identity ? { identity: signed.identity } : {}),
          bundlePath,
          ...(outputFile !== undefined ? { outputFile } : {}),
        },
        notes: [
          `Using payload from: ${file}`,
          `Using predicate from: ${predicatePath}`,
          ...signed.notes,
          ...(outputFile !== undefined ? [`Wrote envelope to ${outputFile}`] : []),
          `Wrote bundle to ${bundlePath}`,
        ],
      };
    }
    // Undefined without --key: the role takes the default key (or the fallback key) and reports which.
    const key = stringFlag(flags, 'key');
    const attester = createAttester(roleOptions(context));
    const result = await attester.attestBlobLocal(file, {
      key,
      predicate: predicatePath,
      type,
      statementVersion: version,
      legacyBundle,
      ...(keyid !== undefined ? { keyid } : {}),
      ...(subjectName !== undefined ? { subjectName } : {}),
      ...(canonical ? { canonical } : {}),
      ...(outputFile !== undefined ? { outputFile } : {}),
      ...(bundlePath !== undefined ? { bundle: bundlePath } : {}),
      signal: context.signal,
    });
    const keyBackend = result.keyBackend ?? parseKeyRef(mode.key).scheme;
    const id = attestationId(envelopeFromText(Buffer.from(result.envelope)).envelope);
    const notes = [
      `engine: ${result.engine}`,
      `attestation_id: ${id.id}`,
      keyNote(keyBackend, result.keyFingerprint),
      `Using payload from: ${file}`,
      `Using predicate from: ${predicatePath}`,
    ];
    if (outputFile !== undefined) notes.push(`Wrote envelope to ${outputFile}`);
    if (bundlePath !== undefined) notes.push(`Wrote bundle to ${bundlePath}`);
    return {
      text: outputFile === undefined ? result.envelope : '',
      data: {
        engine: result.engine,
        predicateType: result.predicateType,
        subjects: result.subjects,
        key: result.key ?? redactKeyRef(mode.key),
        keyBackend,
        ...(result.keyFingerprint ? { keyId: result.keyFingerprint } : {}),
        attestation_id: id.id,
        attestationIdSource: id.source,
        envelope: JSON.parse(result.envelope) as unknown,
        ...(outputFile !== undefined ? { outputFile } : {}),
        ...(bundlePath !== undefined ? { bundlePath } : {}),
      },
      notes,
    };
  },
};

export default command;
