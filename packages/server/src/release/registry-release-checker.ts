import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CosignkitError, fileError, fingerprintOf, silentLogger, type Logger } from '@cosignkit/core';
import { publicKeyHint } from '@cosignkit/dsse';
import type { ReleaseConfig } from '../config.js';
import { TtlCache } from '../expiring-set.js';
import { unavailable } from '../problem.js';
import type { ReleaseChecker, ReleaseVerdict } from './release-check.js';
import { dockerConfigCredentials, RegistryClient, verifyImageSignatures, type FoundSignature } from './registry.js';
import { TrustedIdentities } from './trusted-identities.js';

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
      found = await this.findSignatures(image);
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
   * Every signature of the image, judged in one read of the registry (@cosignkit/oci): cosign's layouts
   * against the trusted keys and, with trusted identities, each keyless signature (a bundle referrer naming a
   * certificate, or a `.sig` layer with a certificate and a Rekor SET in its annotations) against them instead.
   */
  private async findSignatures(image: string): Promise<Counted[]> {
    const trust = this.identities ? { keys: this.keys, keyless: this.identities } : this.keys;
    const { found } = await verifyImageSignatures(this.client, image, trust);
    return found.map((f) => {
      if (!f.verified) return { format: f.format, verified: false };
      const signer = f.keyless ? this.identities?.signerOf(f.keyless) : this.hintOf(f);
      return { format: f.format, verified: true, ...(signer !== undefined ? { signer } : {}) };
    });
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
