import { CosignkitError } from '@cosignkit/core';
import type { Service, SigningConfig } from '@sigstore/protobuf-specs';
import { readLimitedFile } from '../io/read-limited-file.js';
import {
  resolveSigningServicesWithoutConfig,
  withFlags,
  type ResolveSigningServicesOptions,
  type SigningServices,
} from './service-flags.js';

export { PUBLIC_GOOD_FULCIO_URL, PUBLIC_GOOD_REKOR_URL } from './service-flags.js';
export type { ResolveSigningServicesOptions, SigningServices } from './service-flags.js';

export const SIGNING_CONFIG_SIZE_LIMIT = 1024 * 1024;
const SIGNING_CONFIG_V02 = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';

/**
 * Decides the services as cosign v3 does: the signing config names the CA, the log(s) and the TSA(s) in force
 * now (the newest of each API version cosignkit speaks: Fulcio v1, Rekor v2 before v1, TSA v1); flags override; without
 * a config, public good's Fulcio and Rekor (no TSA). `--tlog-upload=false` drops the log.
 */
export async function resolveSigningServices(options: ResolveSigningServicesOptions): Promise<SigningServices> {
  if (options.signingConfigPath === undefined) return resolveSigningServicesWithoutConfig(options);
  const now = options.now ?? new Date();
  const services: SigningServices = {};
  // protobuf-specs only when there is a config to read: the keyless entry (keyless.ts) stays light.
  const loaded = await import('@sigstore/protobuf-specs');
  // Bundled (tsup), a CommonJS module imported dynamically comes back as its default export only.
  const { SigningConfig, ServiceSelector } = loaded.default ?? loaded;
  const config = await readSigningConfig(options.signingConfigPath, SigningConfig);
  const ca = pick(config.caUrls, 1, now);
  // The newest log API in force, as cosign v3 picks: Rekor v2, else v1.
  const tlogV2 = pick(config.rekorTlogUrls, 2, now);
  const tlog = tlogV2 ?? pick(config.rekorTlogUrls, 1, now);
  const tsa = pick(config.tsaUrls, 1, now);
  if (
    config.rekorTlogConfig &&
    config.rekorTlogConfig.selector === ServiceSelector.ALL &&
    config.rekorTlogUrls.length > 1
  ) {
    throw new CosignkitError(
      'NOT_SUPPORTED',
      `${options.signingConfigPath} asks for every log (selector ALL); cosignkit uploads to one`,
    );
  }
  if (ca) services.fulcioUrl = ca.url;
  if (tlog) services.rekorUrl = tlog.url;
  if (tlogV2) services.rekorApiVersion = 2;
  if (tsa) services.tsaUrl = tsa.url;
  return withFlags(services, options);
}

async function readSigningConfig(
  path: string,
  parser: { fromJSON(json: unknown): SigningConfig },
): Promise<SigningConfig> {
  const text = await readLimitedFile(path, SIGNING_CONFIG_SIZE_LIMIT, 'signing config');
  let json: { mediaType?: unknown };
  try {
    json = JSON.parse(text.toString('utf8')) as typeof json;
  } catch {
    throw new CosignkitError('BUNDLE_MALFORMED', `signing config ${path} is not JSON`);
  }
  if (typeof json !== 'object' || json === null || json.mediaType !== SIGNING_CONFIG_V02) {
    throw new CosignkitError('BUNDLE_MALFORMED', `signing config ${path} is not a ${SIGNING_CONFIG_V02} document`);
  }
  try {
    return parser.fromJSON(json);
  } catch (error) {
    throw new CosignkitError('BUNDLE_MALFORMED', `signing config ${path} cannot be parsed`, { cause: error });
  }
}

/** The newest service of this API version valid at `now`. */
function pick(services: Service[], majorApiVersion: number, now: Date): Service | undefined {
  return services
    .filter((s) => s.majorApiVersion === majorApiVersion)
    .filter((s) => (!s.validFor?.start || s.validFor.start <= now) && (!s.validFor?.end || s.validFor.end > now))
    .sort((a, b) => (b.validFor?.start?.getTime() ?? 0) - (a.validFor?.start?.getTime() ?? 0))[0];
}
