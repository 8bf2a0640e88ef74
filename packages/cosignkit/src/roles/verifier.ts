import type { VerificationResult } from '@cosignkit/core';
import type { Verifier, VerifyLocalOptions } from '@cosignkit/core';
import { CosignkitError } from '@cosignkit/core';
import { nativeVerifyBlob } from '../engines/native/verify-blob.js';
import { engineChooser } from './engine-choice.js';
import type { RoleOptions } from './role-options.js';
import { resolveVerificationKey, temporaryPemFile } from './verification-key.js';

/** The Verifier role on either engine. A mismatch is `verified: false`; unusable input throws. */
export function createVerifier(options: RoleOptions): Verifier {
  const choose = engineChooser(options);
  return {
    async verifyLocal(file: string, o: VerifyLocalOptions): Promise<VerificationResult> {
      const text = o.key ?? options.defaultKey;
      if (!text) throw new CosignkitError('USAGE', 'no key: pass --key or set a default key');
      if (!o.signature && !o.bundle) throw new CosignkitError('USAGE', 'nothing to verify: pass --signature or --bundle');
      const key = await resolveVerificationKey(text, options.keys);
      // cosign gets the public key as a PEM file, so any backend works without the plugin.
      const selection = await choose(false);
      if (selection.engine === 'native') {
        return nativeVerifyBlob(file, { publicKey: key.publicKey, signature: o.signature, bundle: o.bundle, signal: o.signal });
      }
      const temp = key.pemPath ? undefined : await temporaryPemFile(key.publicKey);
      try {
        return await selection.runner.verifyBlob(file, {
          publicKeyPath: key.pemPath ?? temp!.path,
          publicKey: key.publicKey,
          signature: o.signature,
          bundle: o.bundle,
          signal: o.signal,
        });
      } finally {
        await temp?.cleanup();
      }
    },
  };
}
