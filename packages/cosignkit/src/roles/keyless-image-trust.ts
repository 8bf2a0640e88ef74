import { CosignkitError, type KeylessPolicy, type Logger, type SignatureCheck } from '@cosignkit/core';
import type { KeylessCheck, KeylessSignatureVerifier } from '@cosignkit/oci';
import type { KeylessVerification, TrustedRootOrigin } from '@cosignkit/sigstore';

/** A keyless verifier of image signatures, and the root it trusts (named in results and notes). */
export interface KeylessImageTrust {
  verifier: KeylessSignatureVerifier;
  origin: TrustedRootOrigin;
  describeOrigin: string;
}

/**
 * Builds @cosignkit/oci's keyless verifier on @cosignkit/sigstore from cosign's flags: the identity policy
 * is compiled and the trusted root loaded once per command, then every `.sig`/`.att` layer and bundle
 * referrer is checked against both. Loaded on this path only, so key-based verification loads no sigstore-js.
 */
export async function keylessImageTrust(
  policy: KeylessPolicy,
  options: { logger?: Logger; env?: Readonly<Record<string, string | undefined>> },
): Promise<KeylessImageTrust> {
  const sigstore = await import('@cosignkit/sigstore');
  const identity = sigstore.compileIdentityPolicy(policy, {
    required: true,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  if (policy.trustedRootPath !== undefined && policy.staging) {
    throw new CosignkitError('USAGE', '--trusted-root and --staging exclude each other');
  }
  const loaded = await sigstore.loadTrustedRoot({
    ...(policy.trustedRootPath !== undefined ? { trustedRootPath: policy.trustedRootPath } : {}),
    staging: policy.staging ?? false,
    offline: policy.offline ?? false,
    env: (options.env ?? process.env) as NodeJS.ProcessEnv,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const verifyOptions = {
    trustedRoot: loaded.root,
    trustedRootOrigin: loaded.origin,
    policy: identity,
    insecureIgnoreTlog: policy.insecureIgnoreTlog ?? false,
    insecureIgnoreSct: policy.insecureIgnoreSct ?? false,
    useSignedTimestamps: policy.useSignedTimestamps ?? false,
    ...(options.logger ? { logger: options.logger } : {}),
  };
  const verifier: KeylessSignatureVerifier = {
    verifyLayer: (signed, annotations) =>
      toCheck(sigstore.verifyCosignLayerSignature(signed, annotations, verifyOptions)),
    verifyBundle: (bundle, subjectDigest) => {
      let json: unknown;
      try {
        json = JSON.parse(bundle.toString('utf8'));
      } catch (error) {
        throw new CosignkitError('BUNDLE_MALFORMED', 'the bundle is not JSON', { cause: error });
      }
      const hex = subjectDigest.slice(subjectDigest.indexOf(':') + 1);
      return toCheck(
        sigstore.verifyBundle(json, {
          ...verifyOptions,
          artifact: { digest: { algorithm: 'sha256', value: Buffer.from(hex, 'hex') } },
        }),
      );
    },
  };
  return { verifier, origin: loaded.origin, describeOrigin: sigstore.describeOrigin(loaded.origin) };
}

function toCheck(result: KeylessVerification): KeylessCheck {
  const check: SignatureCheck | undefined = result.signatures[0];
  return {
    verified: result.verified,
    failures: result.failures.map((f) => f.message),
    ...(check ? { check } : {}),
  };
}
