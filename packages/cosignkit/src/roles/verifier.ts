import type {
  AttestationPolicy,
  KeylessPolicy,
  RegistryPolicy,
  RegistryVerificationResult,
  VerificationResult,
  Verifier,
  VerifyLocalOptions,
} from '@cosignkit/core';
import { CosignkitError } from '@cosignkit/core';
import type { RegistryClient, SignatureTrust } from '@cosignkit/oci';
import { keylessImageTrust, type KeylessImageTrust } from './keyless-image-trust.js';
import { nativeVerifyBlob } from '../engines/native/verify-blob.js';
import { engineChooser } from './engine-choice.js';
import type { ImageVerificationResult } from './registry-access.js';
import type { RoleOptions } from './role-options.js';
import { resolveVerificationKey, temporaryPemFile } from './verification-key.js';

/** The Verifier role on either engine. A mismatch is `verified: false`; unusable input throws. */
export function createVerifier(options: RoleOptions): Verifier {
  const choose = engineChooser(options);
  // The registry side (the OCI client, cosign's image commands, the batch runner) is imported where it is
  // used: a one-shot verify-blob then never loads it, nor node:http (whose ESM import alone loads undici).
  let client: Promise<RegistryClient> | undefined;
  const registry = () => (client ??= import('./registry-access.js').then((m) => m.clientFor(options)));

  const verificationKeys = async (policy: RegistryPolicy) => {
    const texts = Array.isArray(policy.key) ? policy.key : [policy.key];
    if (texts.length === 0) throw new CosignkitError('USAGE', 'no key: pass --key <public key>');
    return Promise.all(texts.map((t) => resolveVerificationKey(t, options.keys)));
  };

  // Keyless trust is built once per role: the root loaded and the policy compiled for every image after.
  let keyless: { policy: KeylessPolicy; built: Promise<KeylessImageTrust> } | undefined;
  const signatureTrust = async (
    policy: RegistryPolicy,
  ): Promise<{ trust: SignatureTrust; origin?: KeylessImageTrust['origin'] }> => {
    if (!policy.keyless) return { trust: (await verificationKeys(policy)).map((k) => k.publicKey) };
    if (keyless?.policy !== policy.keyless) {
      keyless = { policy: policy.keyless, built: keylessImageTrust(policy.keyless, options) };
    }
    const built = await keyless.built;
    return { trust: built.verifier, origin: built.origin };
  };

  const viaCosign = async (
    image: string,
    policy: RegistryPolicy,
    attestationType?: string,
  ): Promise<ImageVerificationResult | undefined> => {
    // auto verifies natively: cosign 2.x reads only the legacy tags, the native verifier reads both layouts.
    if (options.engine !== 'cosign') return undefined;
    if (policy.keyless)
      throw new CosignkitError('NOT_SUPPORTED', 'the cosign engine verifies images with a --key only');
    const selection = await choose(false);
    if (selection.engine !== 'cosign') return undefined;
    const [key, ...more] = await verificationKeys(policy);
    if (more.length > 0) throw new CosignkitError('NOT_SUPPORTED', 'the cosign engine verifies with one --key');
    const [{ formatImageReference, resolveImage }, { cosignVerifyImage, payloadNamesDigest }, { digestOf }] =
      await Promise.all([import('@cosignkit/oci'), import('../engines/cosign-oci.js'), import('./registry-access.js')]);
    const resolved = await resolveImage(await registry(), image); // the same errors on both engines
    // cosign gets the digest resolved here, never the tag: it would resolve a tag again (with GET, where this
    // client uses HEAD) and a registry could answer with another manifest than the digest reported.
    const byDigest = formatImageReference({ ...resolved.ref, tag: undefined, digest: resolved.digest });
    const temp = key!.pemPath ? undefined : await temporaryPemFile(key!.publicKey);
    try {
      const out = await cosignVerifyImage(selection.runner, {
        key: key!.pemPath ?? temp!.path,
        image: byDigest,
        allowHttp: options.allowHttp,
        attestationType,
        signal: policy.signal,
      });
      const failures = out.failure ? [out.failure] : [];
      // What cosign printed must be about this digest too: a verified result names only what was verified.
      const foreign = out.payloads.filter((p) => !payloadNamesDigest(p, resolved.digest));
      if (foreign.length > 0) {
        failures.push({
          code: 'VERIFICATION_FAILED',
          message: `cosign verified ${foreign.length} payload(s) that do not name ${resolved.digest}`,
        });
      }
      return {
        verified: out.verified && foreign.length === 0,
        engine: 'cosign',
        image,
        artifact: { digest: digestOf(resolved.digest) },
        signatures: out.payloads.map((p) => ({ verified: !foreign.includes(p) })),
        failures,
        payloads: out.payloads,
        found: [],
      };
    } finally {
      await temp?.cleanup();
    }
  };

  return {
    async verifyLocal(file: string, o: VerifyLocalOptions): Promise<VerificationResult> {
      const text = o.key ?? options.defaultKey;
      if (!text) throw new CosignkitError('USAGE', 'no key: pass --key or set a default key');
      if (!o.signature && !o.bundle)
        throw new CosignkitError('USAGE', 'nothing to verify: pass --signature or --bundle');
      const key = await resolveVerificationKey(text, options.keys);
      // cosign gets the public key as a PEM file, so any backend works without the plugin.
      const selection = await choose(false);
      if (selection.engine === 'native') {
        return nativeVerifyBlob(file, {
          publicKey: key.publicKey,
          signature: o.signature,
          bundle: o.bundle,
          signal: o.signal,
        });
      }
      const temp = key.pemPath ? undefined : await temporaryPemFile(key.publicKey);
      try {
        return await selection.runner.verifyBlob(file, {
          publicKeyPath: key.pemPath ?? temp!.path,
          publicKey: key.publicKey,
          signature: o.signature,
          bundle: o.bundle,
          signal: o.signal,
        });
      } finally {
        await temp?.cleanup();
      }
    },
    async *verifyMany(inputs, o) {
      // Natively on every engine: one process per file is what a batch exists to avoid.
      const key = await resolveVerificationKey(o.key, options.keys);
      const { verifyMany } = await import('../batch/verify-many.js');
      yield* verifyMany(key.publicKey, inputs, o);
    },
    async verifyRegistry(image: string, policy: RegistryPolicy): Promise<RegistryVerificationResult> {
      const cosign = await viaCosign(image, policy);
      if (cosign) return cosign;
      const { trust, origin } = await signatureTrust(policy);
      const [{ verifyImageSignatures }, { registryResult }] = await Promise.all([
        import('@cosignkit/oci'),
        import('./registry-access.js'),
      ]);
      return withOrigin(
        registryResult(
          image,
          'native',
          await verifyImageSignatures(await registry(), image, trust, options.env as NodeJS.ProcessEnv),
          'signatures',
        ),
        origin,
      );
    },
    async verifyAttestation(image: string, policy: AttestationPolicy): Promise<RegistryVerificationResult> {
      const cosign = await viaCosign(image, policy, policy.type ?? policy.predicateType ?? 'custom');
      if (cosign) return cosign;
      const { trust, origin } = await signatureTrust(policy);
      const [{ verifyImageAttestations }, { registryResult }] = await Promise.all([
        import('@cosignkit/oci'),
        import('./registry-access.js'),
      ]);
      const verification = await verifyImageAttestations(await registry(), image, trust, {
        predicateType: policy.predicateType,
        env: options.env as NodeJS.ProcessEnv,
      });
      return withOrigin(
        registryResult(
          image,
          'native',
          verification,
          policy.predicateType ? `attestations of type ${policy.predicateType}` : 'attestations',
        ),
        origin,
      );
    },
  };
}

/** A keyless result names the trusted root it was checked against. */
function withOrigin<T extends RegistryVerificationResult>(
  result: T,
  origin: KeylessImageTrust['origin'] | undefined,
): T {
  return origin ? { ...result, trustedRoot: origin } : result;
}
