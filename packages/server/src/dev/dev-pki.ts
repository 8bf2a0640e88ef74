import { webcrypto } from 'node:crypto';
type X509 = typeof import('@peculiar/x509');

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

export interface DevCa extends IssuedCertificate {
  issue(options: { subject: string; server?: boolean; validForMs?: number }): Promise<IssuedCertificate>;
}

/**
 * A throw-away CA for `serve --dev` and the tests: P-256, valid a few days, issuing a server certificate
 * for loopback and client certificates whose subject carries the tenant (O) and plan (OU).
 */
export async function createDevCa(name = 'cosignkit dev CA'): Promise<DevCa> {
  // @peculiar/x509 needs the Reflect metadata polyfill: loaded here, only when a dev CA is made.
  await import('reflect-metadata');
  const x509: X509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as never);
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 7 * DAY),
    signingAlgorithm: ALG,
    keys: keys as never,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  return {
    certPem: `${ca.toString('pem').trimEnd()}\n`,
    keyPem: await pkcs8Pem(keys.privateKey),
    async issue({ subject, server = false, validForMs = 2 * DAY }) {
      const leaf = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject,
        issuer: ca.subject,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + validForMs),
        signingAlgorithm: ALG,
        publicKey: leaf.publicKey as never,
        signingKey: keys.privateKey as never,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([
            server ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
          ]),
          ...(server
            ? [
                new x509.SubjectAlternativeNameExtension([
                  { type: 'ip', value: '127.0.0.1' },
                  { type: 'dns', value: 'localhost' },
                ]),
              ]
            : []),
          await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey as never),
        ],
      });
      return { certPem: `${cert.toString('pem').trimEnd()}\n`, keyPem: await pkcs8Pem(leaf.privateKey) };
    },
  };
}

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0]! &= 0x7f;
  return Buffer.from(bytes).toString('hex');
}
