import { CosignkitError } from '@cosignkit/core';
import type { Service, SigningConfig } from '@sigstore/protobuf-specs';
import { readLimitedFile } from '../io/read-limited-file.js';

export const PUBLIC_GOOD_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const PUBLIC_GOOD_REKOR_URL = 'https://rekor.sigstore.dev';
export const SIGNING_CONFIG_SIZE_LIMIT = 1024 * 1024;
const SIGNING_CONFIG_V02 = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';

/** Which services a signature uses. No rekorUrl: no log entry; no tsaUrl: no RFC 3161 timestamp. */
export interface SigningServices {
  fulcioUrl?: string;
  rekorUrl?: string;
  /** The log's API: 1 (default) or 2 (Rekor v2, `/api/v2/log/entries`; time must come from a TSA). */
  rekorApiVersion?: 1 | 2;
  tsaUrl?: string;
}

export interface ResolveSigningServicesOptions {
  /** `--signing-config FILE`: a SigningConfig v0.2 (cosign v3). */
  signingConfigPath?: string;
  /** Explicit URLs win over the signing config's. */
  fulcioUrl?: string;
  rekorUrl?: string;
  timestampServerUrl?: string;
  /** `--tlog-upload`; undefined = the default (a log: the config's, else public good's Rekor). */
  tlogUpload?: boolean;
  /** Keyless needs a CA; keyed signing (S-4) does not. */
  keyless: boolean;
  now?: Date;
}

/**
 * Decides the services as cosign v3 does: the signing config names the CA, the log(s) and the TSA(s) in force
 * now (the newest of each API version cosignkit speaks: Fulcio v1, Rekor v2 before v1, TSA v1); flags override; without
 * a config, public good's Fulcio and Rekor (no TSA). `--tlog-upload=false` drops the log.
 */
export async function resolveSigningServices(options: ResolveSigningServicesOptions): Promise<SigningServices> {
  const now = options.now ?? new Date();
  const services: SigningServices = {};
  if (options.signingConfigPath !== undefined) {
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
  } else {
    services.fulcioUrl = PUBLIC_GOOD_FULCIO_URL;
    services.rekorUrl = PUBLIC_GOOD_REKOR_URL;
  }
  if (options.fulcioUrl !== undefined) services.fulcioUrl = checkUrl('--fulcio-url', options.fulcioUrl);
  if (options.rekorUrl !== undefined) {
    // --rekor-url is cosign's Rekor v1 flag.
    services.rekorUrl = checkUrl('--rekor-url', options.rekorUrl);
    delete services.rekorApiVersion;
  }
  if (options.timestampServerUrl !== undefined)
    services.tsaUrl = checkUrl('--timestamp-server-url', options.timestampServerUrl);
  if (options.tlogUpload === false) {
    delete services.rekorUrl;
    delete services.rekorApiVersion;
  }
  if (!options.keyless) delete services.fulcioUrl;
  if (options.keyless) {
    if (!services.fulcioUrl)
      throw new CosignkitError(
        'USAGE',
        'keyless signing needs a certificate authority: the signing config names none (pass --fulcio-url)',
      );
    // A short-lived certificate is only worth something with a trusted time: a log entry or a timestamp.
    if (!services.rekorUrl && !services.tsaUrl) {
      throw new CosignkitError(
        'USAGE',
        'keyless signing needs a transparency log or a timestamp authority (--tlog-upload=false needs --timestamp-server-url)',
      );
    }
  }
  // A Rekor v2 entry carries no signed integration time: a certificate's validity needs a TSA's time.
  if (options.keyless && services.rekorApiVersion === 2 && !services.tsaUrl) {
    throw new CosignkitError(
      'USAGE',
      'keyless signing with a Rekor v2 log needs a timestamp authority (v2 entries carry no signed time)',
    );
  }
  return services;
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

function checkUrl(flag: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CosignkitError('USAGE', `${flag} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new CosignkitError('USAGE', `${flag} must be an http(s) URL`);
  return value.replace(/\/+$/, '');
}
