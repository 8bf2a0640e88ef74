import type { SignBlobOptions, SignBlobResult, Signer } from '@cosignkit/core';
import { CosignkitError } from '@cosignkit/core';
import { parseKeyRef, redactKeyRef } from '@cosignkit/core';
import { nativeSignBlob } from '../engines/native/sign-blob.js';
import { engineChooser } from './engine-choice.js';
import type { RoleOptions } from './role-options.js';

/** The Signer role on either engine. Keys are references opened through the key opener. */
export function createSigner(options: RoleOptions): Signer {
  const choose = engineChooser(options);
  return {
    async signBlobLocal(file: string, o: SignBlobOptions): Promise<SignBlobResult> {
      const text = o.key ?? options.defaultKey;
      if (!text) throw new CosignkitError('USAGE', 'no key: pass --key or set a default key');
      const ref = parseKeyRef(text);
      // cosign would get the reference in its argv, where a PIN must never be: such keys stay native.
      const inlineSecret = redactKeyRef(ref.text) !== ref.text;
      if (inlineSecret && options.engine === 'cosign') {
        throw new CosignkitError('USAGE',
          `${redactKeyRef(ref.text)} holds an inline PIN, which cannot be handed to cosign: use pin-source or COSIGN_PKCS11_PIN`);
      }
      const selection = inlineSecret ? ({ engine: 'native' } as const) : await choose(ref.scheme !== 'file');
      if (selection.engine === 'native') {
        const opened = await options.keys.open(ref);
        return nativeSignBlob(file, {
          manager: opened.manager,
          keyId: opened.keyId,
          outputSignature: o.outputSignature,
          bundle: o.bundle,
          signal: o.signal,
        });
      }
      let key: string;
      let password: string | undefined;
      if (ref.scheme === 'file') {
        key = ref.path;
        password = await options.keys.secret({
          kind: 'password',
          purpose: 'unlock',
          subject: redactKeyRef(ref.text),
        });
      } else {
        key = `cosignkit://${ref.text}`;
      }
      return selection.runner.signBlob(file, { key, password, outputSignature: o.outputSignature, bundle: o.bundle, signal: o.signal });
    },
  };
}
