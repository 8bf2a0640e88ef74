import { sign as signMessage, type KeyObject } from 'node:crypto';
import { parseIdentityToken } from '../identity/identity-token.js';
import { postToService, type ServiceFetchOptions } from './service-fetch.js';

/**
 * Asks Fulcio to certify a key pair for the token's identity: the proof of possession is a signature over the
 * token's subject (its email, else its sub), as Fulcio wants. The request is made before this returns (its
 * sending settles later, see options.onSent); a token that is not a well-formed, unexpired JWT throws here.
 */
export function requestCertificateForKey(
  fulcioUrl: string,
  identityToken: string,
  key: { privateKey: KeyObject; publicKey: KeyObject },
  options: ServiceFetchOptions = {},
): Promise<string[]> {
  const { subject } = parseIdentityToken(identityToken);
  return requestSigningCertificate(
    fulcioUrl,
    {
      identityToken,
      publicKeyPem: key.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      proofOfPossession: signMessage('sha256', Buffer.from(subject, 'utf8'), key.privateKey),
    },
    options,
  );
}

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
