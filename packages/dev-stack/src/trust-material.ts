import { createHash } from 'node:crypto';

export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';
export const SIGNING_CONFIG_MEDIA_TYPE = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';
const OPERATOR = 'cosignkit dev-stack (@sigstore/mock)';

export interface TrustInputs {
  fulcioUrl: string;
  rekorUrl: string;
  tsaUrl: string;
  issuerUrl: string;
  /** DER of the mock CA's self-signed root. */
  caRoot: Buffer;
  /** SPKI DER of the Rekor key. */
  rekorKey: Buffer;
  /** SPKI DER and log id of the CT log key. */
  ctLogKey: Buffer;
  ctLogId: Buffer;
  /** The TSA chain, signing certificate first, root last (DER). */
  tsaChain: Buffer[];
  /** validFor.start of every entry: a moment before any certificate or entry the stack makes. */
  validFrom: Date;
}

const b64 = (data: Buffer) => data.toString('base64');

/** The stack's TrustedRoot (protobuf-specs JSON), the file cosign's and our `--trusted-root` read. */
export function buildTrustedRoot(input: TrustInputs): Record<string, unknown> {
  const validFor = { start: input.validFrom.toISOString() };
  const key = (spki: Buffer) => ({ rawBytes: b64(spki), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor });
  return {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: [
      {
        baseUrl: input.rekorUrl,
        hashAlgorithm: 'SHA2_256',
        publicKey: key(input.rekorKey),
        // Rekor v1's log id is the SHA-256 of its key's SPKI.
        logId: { keyId: b64(createHash('sha256').update(input.rekorKey).digest()) },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: input.fulcioUrl,
        certChain: { certificates: [{ rawBytes: b64(input.caRoot) }] },
        validFor,
      },
    ],
    ctlogs: [
      {
        baseUrl: input.fulcioUrl,
        hashAlgorithm: 'SHA2_256',
        publicKey: key(input.ctLogKey),
        logId: { keyId: b64(input.ctLogId) },
      },
    ],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        uri: input.tsaUrl,
        certChain: { certificates: input.tsaChain.map((der) => ({ rawBytes: b64(der) })) },
        validFor,
      },
    ],
  };
}

/** The stack's SigningConfig v0.2: which CA, OIDC provider, Rekor and TSA a signer uses. */
export function buildSigningConfig(
  input: Pick<TrustInputs, 'fulcioUrl' | 'rekorUrl' | 'tsaUrl' | 'issuerUrl' | 'validFrom'>,
  /** 2: the log is named as a Rekor v2 service (the same log, its `/api/v2/log/entries`). */
  rekorApiVersion: 1 | 2 = 1,
): Record<string, unknown> {
  const service = (url: string, majorApiVersion = 1) => ({
    url,
    majorApiVersion,
    validFor: { start: input.validFrom.toISOString() },
    operator: OPERATOR,
  });
  return {
    mediaType: SIGNING_CONFIG_MEDIA_TYPE,
    caUrls: [service(input.fulcioUrl)],
    oidcUrls: [service(input.issuerUrl)],
    rekorTlogUrls: [service(input.rekorUrl, rekorApiVersion)],
    rekorTlogConfig: { selector: 'ANY' },
    tsaUrls: [service(input.tsaUrl)],
    tsaConfig: { selector: 'ANY' },
  };
}
