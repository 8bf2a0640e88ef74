import type { SignArtifactOptions, SignArtifactResult, SignBlobOptions, SignBlobResult, Signer } from '@cosignkit/core';
import { CosignkitError, fingerprintOf } from '@cosignkit/core';
import type { RegistryClient } from '@cosignkit/oci';
import { nativeSignBlob } from '../engines/native/sign-blob.js';
import { engineChooser } from './engine-choice.js';
import type { RoleOptions } from './role-options.js';
import { keyProvenance, resolveSigningKey } from './signing-key.js';

/** The Signer role on either engine: files to local outputs, files pushed to a registry, images in place. */
export function createSigner(options: RoleOptions): Signer {
  const choose = engineChooser(options);
  // The registry side (the OCI client, cosign's image commands, the batch runner) is imported where it is
  // used: a one-shot sign-blob then never loads it, nor node:http (whose ESM import alone loads undici).
  let client: Promise<RegistryClient> | undefined;
  const registry = () => (client ??= import('./registry-access.js').then((m) => m.clientFor(options)));

  const signArtifact = async (image: string, o: SignArtifactOptions = {}): Promise<SignArtifactResult> => {
    const key = await resolveSigningKey(options, choose, o.key);
    const [{ formatImageReference, resolveImage, signImage }, { cosignSign }, { digestOf }] = await Promise.all([
      import('@cosignkit/oci'),
      import('../engines/cosign-oci.js'),
      import('./registry-access.js'),
    ]);
    const resolved = await resolveImage(await registry(), image);
    const byDigest = formatImageReference({ ...resolved.ref, tag: undefined, digest: resolved.digest });
    const format = o.format ?? (key.engine === 'cosign' ? 'legacy' : 'bundle');
    if (key.engine === 'cosign') {
      if (format === 'bundle') {
        throw new CosignkitError(
          'NOT_SUPPORTED',
          `cosign ${key.runner.info.version} cannot sign images into a Sigstore bundle (its sign has no --new-bundle-format): use --format legacy or --engine native`,
        );
      }
      const { key: cosignKey, password } = await key.cosignKey();
      await cosignSign(key.runner, {
        key: cosignKey,
        password,
        image: byDigest,
        allowHttp: options.allowHttp,
        annotations: o.annotations,
        signal: o.signal,
      });
      return { engine: 'cosign', image: byDigest, digest: digestOf(resolved.digest), format, ...keyProvenance(key) };
    }
    const opened = await key.open();
    const signed = await signImage(await registry(), resolved, {
      manager: opened.manager,
      keyId: opened.keyId,
      format,
      annotations: o.annotations,
      env: options.env as NodeJS.ProcessEnv,
      signal: o.signal,
    });
    return {
      engine: 'native',
      image: byDigest,
      digest: digestOf(resolved.digest),
      format,
      location: signed.location,
      ...keyProvenance(key),
      keyFingerprint: fingerprintOf(await opened.manager.getPublicKey(opened.keyId)),
    };
  };

  return {
    async signBlobLocal(file: string, o: SignBlobOptions): Promise<SignBlobResult> {
      const cosignCannot =
        o.digest !== undefined
          ? 'cosign sign-blob cannot sign a digest computed elsewhere: use --engine native'
          : undefined;
      const key = await resolveSigningKey(options, choose, o.key, cosignCannot);
      if (key.engine === 'native') {
        const opened = await key.open();
        const signed = await nativeSignBlob(file, {
          manager: opened.manager,
          keyId: opened.keyId,
          outputSignature: o.outputSignature,
          bundle: o.bundle,
          ...(o.digest !== undefined ? { digest: o.digest } : {}),
          signal: o.signal,
        });
        return { ...signed, ...keyProvenance(key) };
      }
      const { key: cosignKey, password } = await key.cosignKey();
      const signed = await key.runner.signBlob(file, {
        key: cosignKey,
        password,
        outputSignature: o.outputSignature,
        bundle: o.bundle,
        signal: o.signal,
      });
      return { ...signed, ...keyProvenance(key) };
    },
    async signBlobAndPush(file: string, ref: string, o: SignArtifactOptions = {}): Promise<SignArtifactResult> {
      const { pushFileArtifact } = await import('./registry-access.js');
      return signArtifact(await pushFileArtifact(await registry(), file, ref), o);
    },
    signArtifact,
    async *signMany(inputs, o) {
      // auto signs a batch natively: one cosign process (and key decryption) per file is what it avoids.
      const batch = options.engine === 'cosign' ? options : { ...options, engine: 'native' as const };
      const { signMany } = await import('../batch/sign-many.js');
      yield* signMany(await resolveSigningKey(batch, engineChooser(batch), o.key), inputs, o);
    },
  };
}
