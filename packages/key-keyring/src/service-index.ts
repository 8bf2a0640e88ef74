import { CosignkitError } from '@cosignkit/core';

/**
 * The keyring services cosignkit has made keys in. No OS keyring API lists the services of one
 * application, so `keyring:<service>/<account>` keys outside the default service would be invisible to
 * `key list` without this list. It lives in the default service, account SERVICES_ACCOUNT.
 */
interface ServiceIndexDocument {
  version: 1;
  services: string[];
}

/** At most this many services are remembered: the list is read on every `key list --backend keyring`. */
export const MAX_SERVICES = 256;

export function parseServiceIndex(text: string | null): string[] {
  if (text === null) return [];
  let doc: Partial<ServiceIndexDocument>;
  try {
    doc = JSON.parse(text) as Partial<ServiceIndexDocument>;
  } catch (error) {
    throw new CosignkitError('KEY_MALFORMED', 'the keyring service list of cosignkit is not JSON', { cause: error });
  }
  if (doc?.version !== 1 || !Array.isArray(doc.services) || doc.services.some((s) => typeof s !== 'string')) {
    throw new CosignkitError('KEY_MALFORMED', 'the keyring service list of cosignkit is damaged');
  }
  return doc.services.slice(0, MAX_SERVICES);
}

export function serializeServiceIndex(services: readonly string[]): string {
  return JSON.stringify({ version: 1, services: [...new Set(services)].sort() } satisfies ServiceIndexDocument);
}
