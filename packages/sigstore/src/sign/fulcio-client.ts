import { postToService, type ServiceFetchOptions } from './service-fetch.js';

/**
 * Fulcio's v2 `signingCert` call: the identity token, the public key (PEM) and the proof of possession (a
 * signature over the token's subject). Returns the chain as PEM, leaf first.
 */
export async function requestSigningCertificate(
  fulcioUrl: string,
  request: { identityToken: string; publicKeyPem: string; proofOfPossession: Buffer },
  options: ServiceFetchOptions = {},
): Promise<string[]> {
  const body = JSON.stringify({
    credentials: { oidcIdentityToken: request.identityToken },
    publicKeyRequest: {
      publicKey: { algorithm: 'ECDSA', content: request.publicKeyPem },
      proofOfPossession: request.proofOfPossession.toString('base64'),
    },
  });
  const answer = JSON.parse(
    (await postToService('Fulcio', `${fulcioUrl.replace(/\/+$/, '')}/api/v2/signingCert`, body, options)).toString(
      'utf8',
    ),
  ) as {
    signedCertificateEmbeddedSct?: { chain?: { certificates?: unknown } };
    signedCertificateDetachedSct?: { chain?: { certificates?: unknown } };
  };
  const chain = (answer.signedCertificateEmbeddedSct ?? answer.signedCertificateDetachedSct)?.chain?.certificates;
  if (!Array.isArray(chain) || chain.length === 0 || chain.some((c) => typeof c !== 'string'))
    throw new Error('no certificate chain in the answer');
  return chain as string[];
}
