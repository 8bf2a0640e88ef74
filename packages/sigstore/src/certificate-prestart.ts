// The prestart entry (`@cosignkit/sigstore/certificate-prestart`): what a CLI needs to start a keyless
// signature's Fulcio request before it loads its command (the services its flags name, the request), and
// nothing else of this package: no protobuf-specs, no signing or verification half. The command's
// EphemeralCertificateKey takes the request over (keyless.ts exports the taking side).
export { prestartCertificateRequest, takePrestartedCertificateRequest } from './sign/certificate-prestart.js';
export type { PrestartedCertificateRequest } from './sign/certificate-prestart.js';
export { resolveSigningServicesWithoutConfig } from './sign/service-flags.js';
