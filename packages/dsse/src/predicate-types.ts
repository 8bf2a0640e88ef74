import { CosignkitError } from '@cosignkit/core';

/** cosign's `--type` names and the predicate type URIs they stand for (cosign's options.PredicateTypeMap). */
export const PREDICATE_TYPES: Readonly<Record<string, string>> = {
  custom: 'https://cosign.sigstore.dev/attestation/v1',
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  link: 'https://in-toto.io/Link/v1',
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  openvex: 'https://openvex.dev/ns',
};

// cosign accepts what Go's url.ParseRequestURI accepts: an absolute URI or an absolute path.
const URI = /^(?:[a-z][a-z0-9+.-]*:|\/)\S*$/i;

/** The predicate type URI for a cosign `--type` name or a URI given as is. */
export function resolvePredicateType(nameOrUri: string): string {
  const known = PREDICATE_TYPES[nameOrUri];
  if (known) return known;
  if (URI.test(nameOrUri)) return nameOrUri;
  throw new CosignkitError(
    'USAGE',
    `invalid predicate type "${nameOrUri}": use a URI or one of ${Object.keys(PREDICATE_TYPES).join(', ')}`,
  );
}
