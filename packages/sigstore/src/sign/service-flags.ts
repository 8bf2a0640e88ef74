import { CosignkitError } from '@cosignkit/core';

// The flags' part of resolveSigningServices (signing-services.ts), apart from the signing config's: this
// file loads no protobuf-specs, so a CLI's early code can take it alone (certificate-prestart.ts).

export const PUBLIC_GOOD_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const PUBLIC_GOOD_REKOR_URL = 'https://rekor.sigstore.dev';

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
 * resolveSigningServices without a signing config (public good's Fulcio and Rekor, then the flags), and
 * synchronous: a command can decide its services before anything else of it has loaded
 * (certificate-prestart.ts). Same answers and same errors as resolveSigningServices given no config.
 */
export function resolveSigningServicesWithoutConfig(
  options: Omit<ResolveSigningServicesOptions, 'signingConfigPath' | 'now'>,
): SigningServices {
  return withFlags({ fulcioUrl: PUBLIC_GOOD_FULCIO_URL, rekorUrl: PUBLIC_GOOD_REKOR_URL }, options);
}

/** The flags over the services a config (or public good) named, then the checks keyless signing needs. */
export function withFlags(
  services: SigningServices,
  options: Omit<ResolveSigningServicesOptions, 'signingConfigPath' | 'now'>,
): SigningServices {
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
