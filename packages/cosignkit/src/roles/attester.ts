import { basename } from 'node:path';
import type {
  AttestArtifactOptions,
  AttestArtifactResult,
  AttestBlobOptions,
  AttestBlobResult,
  Attester,
  PendingOutput,
} from '@cosignkit/core';
import { commitOutputs, digestFile, fingerprintOf } from '@cosignkit/core';
import {
  IN_TOTO_PAYLOAD_TYPE,
  canonicalJson,
  cosignStatementPayload,
  resolvePredicateType,
  serializeDsseBundle,
  serializeEnvelope,
  serializeLegacyAttestationBundle,
  signEnvelope,
  subjectsFromFiles,
} from '@cosignkit/dsse';
import type { RegistryClient } from '@cosignkit/oci';
import { cosignAttestBlob } from '../engines/cosign-attest-blob.js';
import { engineChooser } from './engine-choice.js';
import type { RoleOptions } from './role-options.js';
import { keyProvenance, resolveSigningKey } from './signing-key.js';
import { readPredicate } from './read-predicate.js';

/** The Attester role on either engine: in-toto statements as cosign writes them, signed as DSSE envelopes. */
export function createAttester(options: RoleOptions): Attester {
  const choose = engineChooser(options);
  // The registry side (the OCI client, cosign's image commands) is imported where it is used: a one-shot
  // attest-blob then never loads it, nor node:http (whose ESM import alone loads undici).
  let client: Promise<RegistryClient> | undefined;
  const registry = () => (client ??= import('./registry-access.js').then((m) => m.clientFor(options)));

  const attestArtifact = async (image: string, o: AttestArtifactOptions): Promise<AttestArtifactResult> => {
    const type = o.type ?? 'custom';
    const predicateType = resolvePredicateType(type);
    const predicate = await readPredicate(o.predicate, type);
    const key = await resolveSigningKey(options, choose, o.key);
    const [{ attestImage, formatImageReference, resolveImage }, { cosignAttest }, { digestOf }] = await Promise.all([
      import('@cosignkit/oci'),
      import('../engines/cosign-oci.js'),
      import('./registry-access.js'),
    ]);
    const resolved = await resolveImage(await registry(), image);
    const byDigest = formatImageReference({ ...resolved.ref, tag: undefined, digest: resolved.digest });
    const format = o.format ?? (key.engine === 'cosign' ? 'legacy' : 'bundle');
    if (key.engine === 'cosign') {
      const { key: cosignKey, password } = await key.cosignKey();
      await cosignAttest(key.runner, {
        key: cosignKey,
        password,
        image: byDigest,
        allowHttp: options.allowHttp,
        predicate: o.predicate,
        type,
        bundle: format === 'bundle',
        signal: o.signal,
      });
      return {
        engine: 'cosign',
        image: byDigest,
        digest: digestOf(resolved.digest),
        format,
        predicateType,
        ...keyProvenance(key),
      };
    }
    const opened = await key.open();
    const done = await attestImage(await registry(), resolved, {
      manager: opened.manager,
      keyId: opened.keyId,
      predicateType,
      statement: (subject) =>
        Buffer.from(cosignStatementPayload({ type, predicate, subjects: [subject], version: 'v0.1' })),
      format,
      env: options.env as NodeJS.ProcessEnv,
      signal: o.signal,
    });
    return {
      engine: 'native',
      image: byDigest,
      digest: digestOf(resolved.digest),
      format,
      location: done.location,
      predicateType,
      ...keyProvenance(key),
      keyFingerprint: fingerprintOf(await opened.manager.getPublicKey(opened.keyId)),
    };
  };

  return {
    async attestBlobLocal(file: string, o: AttestBlobOptions): Promise<AttestBlobResult> {
      const type = o.type ?? 'custom';
      const predicateType = resolvePredicateType(type);
      const version = o.statementVersion ?? 'v0.1';
      const predicate = await readPredicate(o.predicate, type, version);
      const nativeOnly = o.keyid !== undefined || o.subjectName !== undefined || o.canonical === true;
      const cosignCannot =
        version === 'v1'
          ? 'cosign attest-blob writes in-toto v0.1 statements: use --engine native for --statement-version v1'
          : nativeOnly
            ? 'cosign attest-blob cannot set a keyid, a subject name or a canonical payload: use --engine native'
            : undefined;
      const key = await resolveSigningKey(options, choose, o.key, cosignCannot);
      if (key.engine === 'cosign') {
        const { key: cosignKey, password } = await key.cosignKey();
        const done = await cosignAttestBlob(key.runner, {
          key: cosignKey,
          password,
          file,
          predicate: o.predicate,
          type,
          statementVersion: version,
          outputFile: o.outputFile,
          bundle: o.bundle,
          legacyBundle: o.legacyBundle === true,
          signal: o.signal,
        });
        return {
          engine: 'cosign',
          predicateType,
          subjects: done.subjects,
          envelope: done.envelope,
          ...keyProvenance(key),
          ...(o.outputFile !== undefined ? { outputFile: o.outputFile } : {}),
          ...(o.bundle !== undefined ? { bundlePath: o.bundle } : {}),
        };
      }
      const fileSubjects =
        version === 'v1'
          ? await subjectsFromFiles([file])
          : [
              {
                name: basename(file),
                digest: { sha256: (await digestFile(file, 'sha256', { signal: o.signal })).toString('hex') },
              },
            ];
      const subjects =
        o.subjectName === undefined ? fileSubjects : fileSubjects.map((s) => ({ ...s, name: o.subjectName }));
      const statement = cosignStatementPayload({ type, predicate, subjects, version });
      const payload = o.canonical ? canonicalJson(statement) : statement;
      const opened = await key.open();
      // As cosign: keyid "" (verifiers try their key rather than match a hint), and ECDSA over SHA-256 whatever
      // the curve, which is what cosign verifies a P-384 key with.
      const envelope = await signEnvelope(
        IN_TOTO_PAYLOAD_TYPE,
        payload,
        [{ manager: opened.manager, keyId: opened.keyId, keyid: o.keyid ?? '', hash: 'sha256' }],
        { signal: o.signal },
      );
      const envelopeText = serializeEnvelope(envelope);
      const outputs: PendingOutput[] = [];
      if (o.outputFile !== undefined) outputs.push({ path: o.outputFile, data: `${envelopeText}\n`, mode: 0o644 });
      if (o.bundle !== undefined) {
        const bundle = o.legacyBundle
          ? serializeLegacyAttestationBundle(envelopeText, await opened.manager.getPublicKeyPem(opened.keyId))
          : serializeDsseBundle(
              { ...envelope, signatures: envelope.signatures.map((s) => ({ sig: s.sig })) },
              await opened.manager.getPublicKey(opened.keyId),
            );
        outputs.push({ path: o.bundle, data: bundle, mode: 0o644 });
      }
      // All outputs or none.
      await commitOutputs(outputs);
      return {
        engine: 'native',
        predicateType,
        subjects,
        envelope: envelopeText,
        ...keyProvenance(key),
        keyFingerprint: fingerprintOf(await opened.manager.getPublicKey(opened.keyId)),
        ...(o.outputFile !== undefined ? { outputFile: o.outputFile } : {}),
        ...(o.bundle !== undefined ? { bundlePath: o.bundle } : {}),
      };
    },
    async *attestMany(inputs, o) {
      // Each item goes through attestBlobLocal: the key opener caches the store and a file key stays
      // decrypted in it, so the batch still opens and unlocks the key once. auto attests a batch natively.
      const { attestMany } = await import('../batch/attest-many.js');
      if (options.engine !== 'cosign') {
        const native = { ...options, engine: 'native' as const };
        const nativeChoice = engineChooser(native);
        yield* attestMany(
          createAttester(native),
          async () => {
            const key = await resolveSigningKey(native, nativeChoice, o.key);
            if (key.engine === 'native') await key.open();
          },
          inputs,
          o,
        );
        return;
      }
      yield* attestMany(
        this,
        async () => {
          const key = await resolveSigningKey(options, choose, o.key);
          if (key.engine === 'native') await key.open();
        },
        inputs,
        o,
      );
    },
    async attestBlobAndPush(file: string, ref: string, o: AttestArtifactOptions): Promise<AttestArtifactResult> {
      const { pushFileArtifact } = await import('./registry-access.js');
      return attestArtifact(await pushFileArtifact(await registry(), file, ref), o);
    },
    attestArtifact,
  };
}
