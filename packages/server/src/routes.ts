/** The service's routes (shared by the server and the client without loading Fastify in the client). */
export const SIGN_ROUTE = '/api/v1/signer/sign/dsse';
export const REFERRERS_ROUTE = '/api/v1/signer/verify/referrers';
