import { createHash } from 'node:crypto';
import { CosignkitError, escapeForTerminal } from '@cosignkit/core';
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';

/**
 * A Sigstore bundle (v0.1–v0.3, both v0.3 media-type spellings) from its JSON, or cosign's legacy
 * `{"base64Signature","cert","rekorBundle"}` bundle converted to an equivalent v0.1 bundle (the legacy
 * one carries no artifact digest, so the caller's artifact digest fills it: the signature still has to
 * verify over that artifact). Anything unreadable is BUNDLE_MALFORMED.
 */
export function parseBundle(json: unknown, artifactSha256?: Buffer): Bundle {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CosignkitError('BUNDLE_MALFORMED', 'the bundle is not a JSON object');
  }
  const object = json as Record<string, unknown>;
  const serialized =
    'base64Signature' in object && !('mediaType' in object) ? legacyToV01(object, artifactSha256) : object;
  try {
    return bundleFromJSON(serialized);
  } catch (error) {
    throw new CosignkitError('BUNDLE_MALFORMED', `not a valid Sigstore bundle: ${oneLine(error)}`, { cause: error });
  }
}

interface LegacyRekorBundle {
  SignedEntryTimestamp?: unknown;
  Payload?: { body?: unknown; integratedTime?: unknown; logIndex?: unknown; logID?: unknown };
}

function legacyToV01(legacy: Record<string, unknown>, artifactSha256: Buffer | undefined): unknown {
  const malformed = (why: string): never => {
    throw new CosignkitError('BUNDLE_MALFORMED', `cosign legacy bundle: ${why}`);
  };
  if (typeof legacy.base64Signature !== 'string') malformed('base64Signature is not a string');
  if (typeof legacy.cert !== 'string') malformed('no "cert": only keyless legacy bundles are verified here');
  const rekor = legacy.rekorBundle as LegacyRekorBundle | undefined;
  if (typeof rekor !== 'object' || rekor === null || typeof rekor.Payload !== 'object' || rekor.Payload === null) {
    malformed('no rekorBundle');
  }
  const payload = rekor!.Payload!;
  if (
    typeof payload.body !== 'string' ||
    typeof rekor!.SignedEntryTimestamp !== 'string' ||
    typeof payload.logID !== 'string' ||
    !/^[0-9a-f]{64}$/.test(payload.logID) ||
    !Number.isSafeInteger(payload.integratedTime) ||
    !Number.isSafeInteger(payload.logIndex)
  ) {
    malformed('rekorBundle lacks a body, SignedEntryTimestamp, logID, integratedTime or logIndex');
  }
  let kind: { kind?: unknown; apiVersion?: unknown };
  try {
    kind = JSON.parse(Buffer.from(payload.body as string, 'base64').toString('utf8')) as typeof kind;
  } catch {
    return malformed('rekorBundle body is not base64 JSON');
  }
  // `cert` is base64 of a PEM certificate (cosign writes it so), or a bare PEM.
  const certText = legacy.cert as string;
  const pem = certText.includes('-----BEGIN') ? certText : Buffer.from(certText, 'base64').toString('utf8');
  const der = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem)?.[1];
  if (der === undefined) malformed('cert is not a PEM certificate');
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      x509CertificateChain: { certificates: [{ rawBytes: der!.replace(/\s+/g, '') }] },
      tlogEntries: [
        {
          logIndex: String(payload.logIndex),
          logId: { keyId: Buffer.from(payload.logID as string, 'hex').toString('base64') },
          kindVersion: { kind: String(kind.kind), version: String(kind.apiVersion) },
          integratedTime: String(payload.integratedTime),
          inclusionPromise: { signedEntryTimestamp: rekor!.SignedEntryTimestamp },
          canonicalizedBody: payload.body,
        },
      ],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    messageSignature: {
      messageDigest: {
        algorithm: 'SHA2_256',
        digest: (artifactSha256 ?? createHash('sha256').digest()).toString('base64'),
      },
      signature: legacy.base64Signature,
    },
  };
}

function oneLine(error: unknown): string {
  // The decoder quotes the bundle's own text (an enum value): escaped, it cannot drive the terminal.
  return escapeForTerminal((error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300));
}
