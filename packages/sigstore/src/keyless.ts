// The light entry for keyless signing (`@cosignkit/sigstore/keyless`): what a signing command needs before
// its Fulcio request can leave (the services, the identity token, the ephemeral key), without the
// verification half of this package (sigstore-js, protobuf-specs). A command starts the certificate
// request with it and loads the main entry while Fulcio answers; createKeylessSigner({ key }) takes the key.
export { resolveIdentityToken } from './identity/resolve-identity-token.js';
export type { ResolveIdentityTokenOptions, ResolvedIdentityToken } from './identity/resolve-identity-token.js';
export { parseIdentityToken } from './identity/identity-token.js';
export type { IdentityTokenClaims } from './identity/identity-token.js';
export { resolveSigningServices } from './sign/signing-services.js';
export type { ResolveSigningServicesOptions, SigningServices } from './sign/signing-services.js';
export { EphemeralCertificateKey } from './sign/ephemeral-certificate-key.js';
export type { EphemeralCertificateKeyOptions } from './sign/ephemeral-certificate-key.js';

/**
 * The signing entry (`@cosignkit/sigstore/sign`), loaded when called. A command that bundles this entry into
 * one file of its own gets the signing half inside it, evaluated only once this is called: one file to load
 * for the whole keyless path, its second half after the Fulcio request has left.
 */
export function loadSigning(): Promise<typeof import('./sign.js')> {
  return import('./sign.js');
}
