import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CosignkitError, fileError, fingerprintOf, silentLogger, type Logger } from '@cosignkit/core';
import { publicKeyHint } from '@cosignkit/dsse';
import type { ReleaseConfig } from '../config.js';
import { TtlCache } from '../expiring-set.js';
import { unavailable } from '../problem.js';
import type { ReleaseChecker, ReleaseVerdict } from './release-check.js';
import {
  dockerConfigCredentials,
  parseImageReference,
  readBundleReferrers,
  readSignatureLayers,
  RegistryClient,
  verifyImageSignatures,
  type FoundSignature,
} from './registry.js';
import { LEGACY_ANNOTATIONS, TrustedIdentities } from './trusted-identities.js';

/** A signature as the verdict counts it: by a trusted key (its hint) or a trusted identity, or not. */
interface Counted {
  format: 'legacy' | 'bundle';
  verified: boolean;
  signer?: string;
}

/** Untrusted verdicts are remembered briefly (a release is often signed just after it is pushed). */
const UNTRUSTED_TTL_MS = 5_000;

/**
 * Checks a scanner image in the configured repository: its signatures in both layouts (bundle referrers,
 * by the Referrers API or its tag fallback, and cosign's legacy `.sig` tag) against the trusted release
 * keys. Fail closed: trusted only when at least one signature verifies with a trusted key and none is
 * ambiguous — a signature that does not verify (another key, another digest, garbage) next to good ones
 * makes the verdict "ambiguous", not trusted, because someone other than the release process wrote there.
 * A registry that cannot be reached is 503 (no verdict), never a pass.
 */
export class RegistryReleaseChecker implements ReleaseChecker {
  private readonly cache = new TtlCache<ReleaseVerdict>(1000);
  private readonly inflight = new Map<string, Promise<ReleaseVerdict>>();

  private constructor(
    private readonly config: ReleaseConfig & { repository: string },
    private readonly keys: KeyObject[],
    private readonly client: RegistryClient,
    private readonly logger: Logger,
    private readonly identities: TrustedIdentities | undefined,
  ) {}

  static async create(
    config: ReleaseConfig,
    logger: Logger = silentLogger,
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<RegistryReleaseChecker> {
    if (config.repository === undefined) throw new CosignkitError('USAGE', 'release.repository is not set');
    const keys = await Promise.all(
      config.trustedKeys.map(async (path) => {
        let text: string;
        try {
          text = await readFile(path, 'utf8');
        } catch (error) {
          throw fileError(path, error);
        }
        try {
          return createPublicKey(text);
        } catch {
          throw new CosignkitError('KEY_MALFORMED', `${path} is not a PEM public key`);
        }
      }),
    );
    const identities =
      config.trustedIdentities.length > 0 && config.trustedRoot !== undefined
        ? await TrustedIdentities.load(config.trustedIdentities, config.trustedRoot)
        : undefined;
    const client = new RegistryClient({ allowHttp: config.insecure, credentials: dockerConfigCredentials(env) });
    return new RegistryReleaseChecker({ ...config, repository: config.repository }, keys, client, logger, identities);
  }

  check(digest: string): Promise<ReleaseVerdict> {
    const cached = this.cache.get(digest);
    if (cached) return Promise.resolve(cached);
    // Concurrent requests for one digest share one registry round trip.
    let pending = this.inflight.get(digest);
    if (!pending) {
      pending = this.lookup(digest).finally(() => this.inflight.delete(digest));
      this.inflight.set(digest, pending);
    }
    return pending;
  }

  private async lookup(digest: string): Promise<ReleaseVerdict> {
    const image = `${this.config.repository}@${digest}`;
    let found: Counted[];
    try {
      found = await this.findSignatures(image, digest);
    } catch (error) {
      if (CosignkitError.isInstance(error) && error.code === 'IMAGE_NOT_FOUND') {
        return this.remember(digest, {
          trusted: false,
          reason: 'the image is not in the release repository',
          signers: [],
          signatures: [],
        });
      }
      this.logger.warn('release check: registry error', {
        code: CosignkitError.isInstance(error) ? error.code : 'INTERNAL',
        message: (error as Error).message,
      });
      throw unavailable('the release registry cannot be checked; try again later', 5);
    }
    const signatures = found.map((f) => ({
      source: f.format === 'bundle' ? ('referrers' as const) : ('legacy' as const),
      verified: f.verified,
    }));
    const good = found.filter((f) => f.verified);
    const bad = found.filter((f) => !f.verified);
    const signers = [...new Set(good.map((f) => f.signer).filter((h): h is string => h !== undefined))];
    let verdict: ReleaseVerdict;
    if (found.length === 0) verdict = { trusted: false, reason: 'unsigned: no signature found', signers, signatures };
    else if (good.length === 0)
      verdict = { trusted: false, reason: 'no signature by a trusted release key or identity', signers, signatures };
    else if (bad.length > 0)
      verdict = {
        trusted: false,
        reason: `ambiguous: ${bad.length} signature(s) that do not verify beside ${good.length} that do`,
        signers,
        signatures,
      };
    else
      verdict = { trusted: true, reason: `signed by ${signers.length} trusted release signer(s)`, signers, signatures };
    return this.remember(digest, verdict);
  }

  /**
   * Every signature of the image, judged: cosign's layouts against the trusted keys (@cosignkit/oci), then,
   * with trusted identities, each keyless bundle referrer (a certificate, not a key) verified against them
   * instead, and so is each keyless `.sig` layer (cosign 2.x: a certificate and a Rekor SET in its
   * annotations). The keyless verdict replaces the key check's failure for the same referrer or layer.
   */
  private async findSignatures(image: string, digest: string): Promise<Counted[]> {
    const keyed = (await verifyImageSignatures(this.client, image, this.keys)).found;
    const counted: Counted[] = [];
    const judged = new Set<string>();
    const judgedLayers = new Set<number>();
    if (this.identities) {
      const ref = parseImageReference(image);
      const repo = { registry: ref.registry, repository: ref.repository };
      // Errors other than transport ones (garbage indexes, malformed manifests) are already failures in the
      // key check's results; a registry that cannot be reached ends the check (503), as there.
      const rethrowTransport = (error: unknown): never[] => {
        if (!CosignkitError.isInstance(error) || error.code === 'BACKEND_UNAVAILABLE' || error.code === 'TIMEOUT')
          throw error;
        return [];
      };
      const [referrers, layers] = await Promise.all([
        readBundleReferrers(this.client, repo, digest).catch(rethrowTransport),
        readSignatureLayers(this.client, repo, digest, 'sig').catch(rethrowTransport),
      ]);
      const count = (check: ReturnType<TrustedIdentities['check']>, where: string) => {
        if (check.kind === 'not-a-signature') return;
        if (check.kind === 'trusted') counted.push({ format: 'bundle', verified: true, signer: check.signer });
        else {
          this.logger.debug(`release check: keyless ${where} not trusted: ${check.reason}`);
          counted.push({ format: 'bundle', verified: false });
        }
      };
      for (const r of referrers) {
        if (r.failure) continue;
        let bundle: unknown;
        try {
          bundle = JSON.parse(r.bundle.toString('utf8'));
        } catch {
          continue; // the key check records it as malformed
        }
        if (!TrustedIdentities.isKeyless(bundle)) continue;
        judged.add(r.manifestDigest);
        count(this.identities.check(bundle, digest), `referrer ${r.manifestDigest}`);
      }
      for (const [i, layer] of layers.entries()) {
        if (layer.failure || !layer.annotations[LEGACY_ANNOTATIONS.certificate]) continue;
        judgedLayers.add(i);
        const check = this.identities.checkLegacyLayer(layer.bytes, layer.annotations, digest);
        if (check.kind !== 'not-a-signature')
          counted.push({
            format: 'legacy',
            verified: check.kind === 'trusted',
            ...(check.kind === 'trusted' ? { signer: check.signer } : {}),
          });
        if (check.kind === 'untrusted')
          this.logger.debug(`release check: keyless .sig layer ${i} not trusted: ${check.reason}`);
      }
    }
    for (const f of keyed) {
      // The key check's verdict on a keyless referrer or `.sig` layer judged above is dropped.
      if (f.source && 'referrer' in f.source && judged.has(f.source.referrer)) continue;
      if (f.source && 'layer' in f.source && judgedLayers.has(f.source.layer)) continue;
      counted.push({ format: f.format, verified: f.verified, ...(f.verified ? { signer: this.hintOf(f) } : {}) });
    }
    return counted;
  }

  private hintOf(found: FoundSignature): string | undefined {
    const key = this.keys.find((k) => found.keyFingerprint !== undefined && fingerprintOf(k) === found.keyFingerprint);
    return key ? publicKeyHint(key) : found.keyFingerprint;
  }

  private remember(digest: string, verdict: ReleaseVerdict): ReleaseVerdict {
    this.cache.set(
      digest,
      verdict,
      verdict.trusted
        ? this.config.cacheTtlSeconds * 1000
        : Math.min(UNTRUSTED_TTL_MS, this.config.cacheTtlSeconds * 1000),
    );
    return verdict;
  }
}
