import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '@cosignkit/core';
import { fuzzParams, mutatedJson, settles } from '../../../core/test/helpers/fuzz.js';
import { compileIdentityPolicy, verifyBundle } from '../../src/index.js';
import { CASES, fixture, quietLogger, rootOf } from '../helpers.js';

// Property test (issue 11) of keyless bundle verification: real public-good and staging bundles, mutated
// (any field replaced, removed or added, bytes edited, truncated), verified against their own root and
// identity. Each run returns a result or throws BUNDLE_MALFORMED/USAGE with a one-line clean message, fast;
// a verification that passes must be over the original signature, certificate and content.
const CODES = new Set<ErrorCode>(['BUNDLE_MALFORMED', 'USAGE']);

describe('keyless bundles (verifyBundle)', () => {
  for (const c of CASES.filter((x) => ['bundleV03-intoto.sigstore', 'bundle_v3.txt.sigstore'].includes(x.bundle))) {
    it(`mutations of ${c.bundle}: a result or BUNDLE_MALFORMED; no mutated signature verifies`, async () => {
      const text = fixture(c.bundle).toString('utf8');
      const original = JSON.parse(text) as Record<string, any>;
      const { logger } = quietLogger();
      const policy = compileIdentityPolicy(
        { certificateIdentity: c.identity, certificateOidcIssuer: c.issuer },
        { required: true, logger },
      );
      const trustedRoot = rootOf(c.root);
      const artifact = c.artifact ? { artifact: { bytes: fixture(c.artifact) } } : {};
      await fc.assert(
        fc.asyncProperty(mutatedJson(text), async (mutated) => {
          let json: unknown;
          try {
            json = JSON.parse(mutated);
          } catch {
            return; // not JSON: the CLI's file reader refuses it before this function
          }
          const { value } = await settles(CODES, () =>
            verifyBundle(json, { trustedRoot, policy, ...artifact, logger }),
          );
          if (value?.verified) {
            const m = json as Record<string, any>;
            // What the signature covers (a keyid is an unsigned hint, so it is not compared).
            const content = (b: Record<string, any>) =>
              JSON.stringify(
                b.messageSignature ?? [
                  b.dsseEnvelope?.payload,
                  b.dsseEnvelope?.payloadType,
                  b.dsseEnvelope?.signatures?.map((x: { sig?: unknown }) => x?.sig),
                ],
              );
            expect(content(m)).toBe(content(original));
          }
        }),
        fuzzParams(150, 3000),
      );
    });
  }
});

describe('hostile text in a bundle is escaped in the error', () => {
  it('an enum value with ESC and a newline', async () => {
    const c = CASES.find((x) => x.bundle === 'bundle_v3.txt.sigstore')!;
    const json = JSON.parse(fixture(c.bundle).toString('utf8')) as Record<string, any>;
    json.messageSignature.messageDigest.algorithm = '\u001b[2J\nVerified OK';
    const { logger } = quietLogger();
    const policy = compileIdentityPolicy(
      { certificateIdentity: c.identity, certificateOidcIssuer: c.issuer },
      { required: true, logger },
    );
    const { code } = await settles(CODES, () => verifyBundle(json, { trustedRoot: rootOf(c.root), policy, logger }));
    expect(code).toBe('BUNDLE_MALFORMED');
  });
});
