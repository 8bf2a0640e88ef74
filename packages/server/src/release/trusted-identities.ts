import { CosignkitError, type SignatureCheck } from '@cosignkit/core';
import {
  compileIdentityPolicy,
  loadTrustedRoot,
  verifyBundle,
  type ArtifactInput,
  type IdentityPolicy,
  type LoadedTrustedRoot,
} from '@cosignkit/sigstore';
import type { TrustedIdentity } from '../config.js';
import type { KeylessCheck, KeylessSignatureVerifier } from './registry.js';

/** cosign 2.x's annotations on a keyless `.sig` layer. */
export const LEGACY_ANNOTATIONS = {
  certificate: 'dev.sigstore.cosign/certificate',
  bundle: 'dev.sigstore.cosign/bundle',
} as const;

/**
 * The trusted release identities, as @cosignkit/oci's keyless verifier: keyless bundles (a Fulcio
 * certificate, a log entry) verified with @cosignkit/sigstore against the configured trusted root, and their
 * signer checked against each configured identity/issuer pair (exact or Go regexp, as cosign's
 * --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]). oci checks that the statement or
 * payload names the image digest and skips statements of another predicate; `signerOf` names the identity a
 * verified signature matched.
 */
export class TrustedIdentities implements KeylessSignatureVerifier {
  /** The identity (its label) each verified check matched; keyed by the check oci puts in its result. */
  readonly #signers = new WeakMap<SignatureCheck, string>();

  private constructor(
    private readonly root: LoadedTrustedRoot,
    private readonly policies: { policy: IdentityPolicy; label: string }[],
  ) {}

  static async load(identities: TrustedIdentity[], trustedRootPath: string): Promise<TrustedIdentities> {
    let root: LoadedTrustedRoot;
    try {
      root = await loadTrustedRoot({ trustedRootPath });
    } catch (error) {
      throw CosignkitError.isInstance(error)
        ? new CosignkitError('USAGE', `release.trustedRoot: ${error.message}`)
        : error;
    }
    const policies = identities.map((id, i) => {
      try {
        return {
          policy: compileIdentityPolicy(
            {
              ...(id.identity !== undefined ? { certificateIdentity: id.identity } : {}),
              ...(id.identityRegexp !== undefined ? { certificateIdentityRegexp: id.identityRegexp } : {}),
              ...(id.issuer !== undefined ? { certificateOidcIssuer: id.issuer } : {}),
              ...(id.issuerRegexp !== undefined ? { certificateOidcIssuerRegexp: id.issuerRegexp } : {}),
            },
            { required: true },
          ),
          label: `${id.identity ?? `~${id.identityRegexp}`} (${id.issuer ?? `~${id.issuerRegexp}`})`,
        };
      } catch (error) {
        throw CosignkitError.isInstance(error)
          ? new CosignkitError('USAGE', `release.trustedIdentities[${i}]: ${error.message}`)
          : error;
      }
    });
    return new TrustedIdentities(root, policies);
  }

  /** The configured identity a verified keyless signature (oci's FoundSignature.keyless) matched. */
  signerOf(check: SignatureCheck): string | undefined {
    return this.#signers.get(check);
  }

  /**
   * A keyless signature in cosign 2.x's `.sig` layout: the simple-signing payload, its signature, and the
   * certificate and Rekor bundle (SET) annotations, as the legacy bundle @cosignkit/sigstore reads.
   */
  verifyLayer(
    signed: Parameters<KeylessSignatureVerifier['verifyLayer']>[0],
    annotations: Record<string, string>,
  ): KeylessCheck {
    if (signed.kind !== 'message') return untrusted('not an image signature layer');
    const cert = annotations[LEGACY_ANNOTATIONS.certificate];
    const rekor = annotations[LEGACY_ANNOTATIONS.bundle];
    if (!cert || !rekor) return untrusted('a keyless .sig layer without its log entry');
    let rekorBundle: unknown;
    try {
      rekorBundle = JSON.parse(rekor);
    } catch {
      return untrusted('a keyless .sig layer whose log entry is not JSON');
    }
    return this.#verify(
      { base64Signature: signed.signature.toString('base64'), cert, rekorBundle },
      { bytes: signed.payload },
    );
  }

  /** A keyless bundle referrer for the image `subjectDigest` (sha256:…), against every trusted identity. */
  verifyBundle(bundle: Buffer, subjectDigest: string): KeylessCheck {
    let json: unknown;
    try {
      json = JSON.parse(bundle.toString('utf8'));
    } catch {
      return untrusted('the bundle is not JSON');
    }
    const value = Buffer.from(subjectDigest.slice('sha256:'.length), 'hex');
    return this.#verify(json, { digest: { algorithm: 'sha256', value } });
  }

  #verify(bundle: unknown, artifact: ArtifactInput): KeylessCheck {
    let failures = ['no trusted release identity matches'];
    for (const { policy, label } of this.policies) {
      let result;
      try {
        result = verifyBundle(bundle, {
          trustedRoot: this.root.root,
          trustedRootOrigin: this.root.origin,
          policy,
          artifact,
        });
      } catch (error) {
        return untrusted(CosignkitError.isInstance(error) ? error.message : 'unreadable bundle');
      }
      if (result.verified) {
        const check: SignatureCheck = result.signatures[0] ?? { verified: true };
        this.#signers.set(check, label);
        return { verified: true, failures: [], check };
      }
      failures = result.failures.map((f) => f.message);
    }
    return { verified: false, failures };
  }
}

function untrusted(reason: string): KeylessCheck {
  return { verified: false, failures: [reason] };
}
