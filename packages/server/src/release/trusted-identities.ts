import { CosignkitError } from '@cosignkit/core';
import {
  compileIdentityPolicy,
  loadTrustedRoot,
  verifyBundle,
  type ArtifactInput,
  type IdentityPolicy,
  type LoadedTrustedRoot,
} from '@cosignkit/sigstore';
import type { TrustedIdentity } from '../config.js';
import { COSIGN_SIGN_PREDICATE } from './registry.js';

/** cosign 2.x's annotations on a keyless `.sig` layer. */
export const LEGACY_ANNOTATIONS = {
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  bundle: 'dev.sigstore.cosign/bundle',
} as const;

/** What one keyless bundle says about a release. */
export type KeylessCheck =
  /** Not an image signature (an attestation referrer): not counted, as cosign's verify does not. */
  { kind: 'not-a-signature' } | { kind: 'trusted'; signer: string } | { kind: 'untrusted'; reason: string };

/**
 * The trusted release identities: keyless bundles (a Fulcio certificate, a log entry) verified with
 * @cosignkit/sigstore against the configured trusted root, and their signer checked against each configured
 * identity/issuer pair (exact or Go regexp, as cosign's --certificate-identity[-regexp] and
 * --certificate-oidc-issuer[-regexp]). The bundle's statement must name the image digest.
 */
export class TrustedIdentities {
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

  /** Whether a bundle is keyless (names a certificate), so this class, not the key check, judges it. */
  static isKeyless(bundle: unknown): boolean {
    const material = (bundle as { verificationMaterial?: Record<string, unknown> } | undefined)?.verificationMaterial;
    return (
      typeof material === 'object' &&
      material !== null &&
      ('certificate' in material || 'x509CertificateChain' in material)
    );
  }

  /**
   * Checks a keyless signature in cosign 2.x's `.sig` layout: the simple-signing payload, its signature, and
   * the certificate and Rekor bundle (SET) annotations, as the legacy bundle @cosignkit/sigstore reads; the
   * payload must name `digest`.
   */
  checkLegacyLayer(payload: Buffer, annotations: Record<string, string>, digest: string): KeylessCheck {
    const signature = annotations[LEGACY_ANNOTATIONS.signature];
    const cert = annotations[LEGACY_ANNOTATIONS.certificate];
    const rekor = annotations[LEGACY_ANNOTATIONS.bundle];
    if (!signature || !cert || !rekor)
      return { kind: 'untrusted', reason: 'a keyless .sig layer without its log entry' };
    let rekorBundle: unknown;
    let claimed: unknown;
    try {
      rekorBundle = JSON.parse(rekor);
      claimed = (JSON.parse(payload.toString('utf8')) as { critical?: { image?: Record<string, unknown> } }).critical
        ?.image?.['docker-manifest-digest'];
    } catch {
      return { kind: 'untrusted', reason: 'a keyless .sig layer that is not JSON' };
    }
    if (claimed !== digest) return { kind: 'untrusted', reason: `the signed payload names ${String(claimed)}` };
    return this.#verify({ base64Signature: signature, cert, rekorBundle }, { bytes: payload }, false);
  }

  /** Checks a keyless bundle for the image `digest` (sha256:…) against every trusted identity. */
  check(bundle: unknown, digest: string): KeylessCheck {
    const value = Buffer.from(digest.slice('sha256:'.length), 'hex');
    return this.#verify(bundle, { digest: { algorithm: 'sha256', value } }, true);
  }

  #verify(bundle: unknown, artifact: ArtifactInput, statement: boolean): KeylessCheck {
    let lastReason = 'no trusted release identity matches';
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
        return { kind: 'untrusted', reason: CosignkitError.isInstance(error) ? error.message : 'unreadable bundle' };
      }
      const predicateType = statement ? predicateTypeOf(result.envelope?.payload) : undefined;
      if (predicateType !== undefined && predicateType !== COSIGN_SIGN_PREDICATE) return { kind: 'not-a-signature' };
      if (result.verified) return { kind: 'trusted', signer: label };
      lastReason = result.failures.map((f) => f.message).join('; ');
    }
    return { kind: 'untrusted', reason: lastReason };
  }
}

function predicateTypeOf(payload: Buffer | undefined): string | undefined {
  if (!payload) return undefined;
  try {
    const type = (JSON.parse(payload.toString('utf8')) as { predicateType?: unknown }).predicateType;
    return typeof type === 'string' ? type : undefined;
  } catch {
    return undefined;
  }
}
