import { createHash } from 'node:crypto';
import { bundleShapeProblem, CosignkitError, escapeForTerminal } from '@cosignkit/core';
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { bundleFieldProblem } from './bundle-fields.js';
import { cosignLegacyBundle } from './cosign-legacy-bundle.js';

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
  if (!('base64Signature' in object) || 'mediaType' in object) {
    const problem = bundleShapeProblem(object) ?? bundleFieldProblem(object);
    if (problem) throw new CosignkitError('BUNDLE_MALFORMED', problem);
  }
  const serialized =
    'base64Signature' in object && !('mediaType' in object) ? legacyToV01(object, artifactSha256) : object;
  try {
    return bundleFromJSON(serialized);
  } catch (error) {
    throw new CosignkitError('BUNDLE_MALFORMED', `not a valid Sigstore bundle: ${oneLine(error)}`, { cause: error });
  }
}

/**
 * cosign's legacy blob bundle. It carries no artifact digest, so the caller's fills it (the signature still
 * has to verify over that artifact).
 */
function legacyToV01(legacy: Record<string, unknown>, artifactSha256: Buffer | undefined): unknown {
  if (typeof legacy.base64Signature !== 'string')
    throw new CosignkitError('BUNDLE_MALFORMED', 'cosign legacy bundle: base64Signature is not a string');
  if (typeof legacy.cert !== 'string')
    throw new CosignkitError(
      'BUNDLE_MALFORMED',
      'cosign legacy bundle: no "cert": only keyless legacy bundles are verified here',
    );
  if (legacy.rekorBundle === undefined || legacy.rekorBundle === null)
    throw new CosignkitError('BUNDLE_MALFORMED', 'cosign legacy bundle: no rekorBundle');
  return cosignLegacyBundle({
    certificate: legacy.cert,
    content: {
      kind: 'message',
      sha256: artifactSha256 ?? createHash('sha256').digest(),
      signature: Buffer.from(legacy.base64Signature, 'base64'),
    },
    rekorBundle: legacy.rekorBundle,
  });
}

function oneLine(error: unknown): string {
  // The decoder quotes the bundle's own text (an enum value): escaped, it cannot drive the terminal.
  return escapeForTerminal((error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300));
}
