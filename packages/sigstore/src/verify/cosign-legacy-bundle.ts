import { CosignkitError } from '@cosignkit/core';

/**
 * cosign's pre-bundle keyless material, in whichever container it came: the legacy blob bundle
 * (`{base64Signature, cert, rekorBundle}`), `verify-blob --certificate --signature [--bundle]`, or an image's
 * `.sig`/`.att` layer annotations (`dev.sigstore.cosign/certificate`, `…/chain`, `…/bundle`,
 * `…/rfc3161timestamp`). All of them become one v0.1 Sigstore bundle, so that every form is verified by the
 * same code (chain, SCT, SET, identity policy) as a real bundle.
 */
export interface CosignLegacyMaterial {
  /** The leaf certificate: PEM text, or base64 of PEM (cosign writes `cert` so in its legacy bundle). */
  certificate: string;
  /** `--certificate-chain` / `dev.sigstore.cosign/chain`: intermediates and root (PEM). Only carried along: trust comes from the root. */
  chain?: string;
  /** What was signed: a message (its SHA-256 and the raw signature) or a DSSE envelope. */
  content:
    | { kind: 'message'; sha256: Buffer; signature: Buffer }
    | {
        kind: 'dsse';
        envelope: { payloadType: string; payload: string; signatures: { keyid?: string; sig: string }[] };
      };
  /** cosign's Rekor bundle (`rekorBundle`, the `…/bundle` annotation): `{SignedEntryTimestamp, Payload}`, parsed JSON. */
  rekorBundle?: unknown;
  /** `…/rfc3161timestamp`: `{SignedRFC3161Timestamp: base64 DER}`, parsed JSON. */
  rfc3161Timestamp?: unknown;
}

interface RekorBundleJson {
  SignedEntryTimestamp?: unknown;
  Payload?: { body?: unknown; integratedTime?: unknown; logIndex?: unknown; logID?: unknown };
}

const malformed = (why: string): never => {
  throw new CosignkitError('BUNDLE_MALFORMED', `cosign legacy signature: ${why}`);
};

/** The v0.1 bundle JSON equivalent of cosign's legacy material; BUNDLE_MALFORMED when a piece cannot be read. */
export function cosignLegacyBundle(material: CosignLegacyMaterial): Record<string, unknown> {
  const certificates = [pemCertificates(material.certificate, 'certificate')[0]!];
  if (material.chain !== undefined) certificates.push(...pemCertificates(material.chain, 'certificate chain'));
  const tlogEntries = material.rekorBundle === undefined ? [] : [tlogEntry(material.rekorBundle)];
  const rfc3161Timestamps = material.rfc3161Timestamp === undefined ? [] : [timestamp(material.rfc3161Timestamp)];
  const content =
    material.content.kind === 'message'
      ? {
          messageSignature: {
            messageDigest: { algorithm: 'SHA2_256', digest: material.content.sha256.toString('base64') },
            signature: material.content.signature.toString('base64'),
          },
        }
      : { dsseEnvelope: material.content.envelope };
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      x509CertificateChain: { certificates: certificates.map((rawBytes) => ({ rawBytes })) },
      tlogEntries,
      timestampVerificationData: { rfc3161Timestamps },
    },
    ...content,
  };
}

/** The base64 DER of each certificate in PEM text (or base64 of PEM text); at least one. */
/** The leaf certificate's DER from PEM text or base64 of PEM (as cosign writes `--output-certificate`). */
export function leafCertificateDer(text: string): Buffer {
  return Buffer.from(pemCertificates(text, 'certificate')[0]!, 'base64');
}

function pemCertificates(text: string, what: string): string[] {
  const pem = text.includes('-----BEGIN') ? text : Buffer.from(text, 'base64').toString('utf8');
  const found = [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) =>
    m[1]!.replace(/\s+/g, ''),
  );
  if (found.length === 0) malformed(`the ${what} is not a PEM certificate`);
  if (found.some((b64) => !/^[A-Za-z0-9+/]+=*$/.test(b64))) malformed(`the ${what} is not valid base64 PEM`);
  return found;
}

function tlogEntry(json: unknown): Record<string, unknown> {
  const rekor = json as RekorBundleJson;
  if (typeof rekor !== 'object' || rekor === null || typeof rekor.Payload !== 'object' || rekor.Payload === null) {
    malformed('the Rekor bundle has no Payload');
  }
  const payload = rekor.Payload!;
  if (
    typeof payload.body !== 'string' ||
    typeof rekor.SignedEntryTimestamp !== 'string' ||
    typeof payload.logID !== 'string' ||
    !/^[0-9a-f]{64}$/.test(payload.logID) ||
    !Number.isSafeInteger(payload.integratedTime) ||
    !Number.isSafeInteger(payload.logIndex)
  ) {
    malformed('the Rekor bundle lacks a body, SignedEntryTimestamp, logID, integratedTime or logIndex');
  }
  let kind: { kind?: unknown; apiVersion?: unknown };
  try {
    kind = JSON.parse(Buffer.from(payload.body as string, 'base64').toString('utf8')) as typeof kind;
  } catch {
    return malformed('the Rekor bundle body is not base64 JSON');
  }
  if (typeof kind !== 'object' || kind === null || typeof kind.kind !== 'string' || typeof kind.apiVersion !== 'string')
    malformed('the Rekor bundle body names no kind and apiVersion');
  return {
    logIndex: String(payload.logIndex),
    logId: { keyId: Buffer.from(payload.logID as string, 'hex').toString('base64') },
    kindVersion: { kind: kind.kind, version: kind.apiVersion },
    integratedTime: String(payload.integratedTime),
    inclusionPromise: { signedEntryTimestamp: rekor.SignedEntryTimestamp },
    canonicalizedBody: payload.body,
  };
}

function timestamp(json: unknown): Record<string, unknown> {
  const signed = (json as { SignedRFC3161Timestamp?: unknown } | null)?.SignedRFC3161Timestamp;
  if (typeof signed !== 'string' || signed.length === 0)
    malformed('the RFC 3161 timestamp has no SignedRFC3161Timestamp');
  return { signedTimestamp: signed };
}
