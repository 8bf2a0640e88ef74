import type { KeyAlgorithm, KeyManager } from '@cosignkit/core';
import { CosignkitError } from '@cosignkit/core/errors';
import {
  cosignkitAlgorithm,
  defaultAlgorithmOf,
  hashOf,
  messageOptionsOf,
  methodArgs,
  sigstoreAlgorithm,
  type PluginRequest,
} from './protocol.js';

/** A key as the plugin needs it: the store's manager (local or the agent's) and the key's id in it. */
export interface PluginKey {
  manager: Pick<KeyManager, 'generateKeyPair' | 'getPublicKeyPem' | 'getAlgorithm' | 'signDigest' | 'signMessage'>;
  keyId: string;
  /** Known when the opener learned it already (the agent tells it with the open). */
  algorithm?: KeyAlgorithm;
}

export interface PluginKeys {
  open(keyResourceID: string): Promise<PluginKey>;
  /** Optional: signs a digest with the key a reference names in one step (the agent: one round trip). */
  signDigest?(keyResourceID: string, digest: Uint8Array): Promise<Uint8Array>;
  algorithms(keyResourceID: string): Promise<readonly string[]>;
}

/** Serves every method but `defaultAlgorithm` (answered without loading anything). Throws for an error answer. */
export async function handleKeyRequest(
  request: PluginRequest,
  keys: PluginKeys,
  stdin: AsyncIterable<Uint8Array>,
): Promise<Record<string, unknown>> {
  const id = request.initOptions.keyResourceID;
  const args = methodArgs(request);
  switch (request.methodName) {
    case 'defaultAlgorithm':
      return { defaultAlgorithm: { defaultAlgorithm: defaultAlgorithmOf(id) } };
    case 'supportedAlgorithms':
      return { supportedAlgorithms: { supportedAlgorithms: (await keys.algorithms(id)).map(sigstoreAlgorithm) } };
    case 'createKey': {
      const name = (args.algorithm ?? args.Algorithm ?? defaultAlgorithmOf(id)) as string;
      const algorithm = cosignkitAlgorithm(String(name)) as KeyAlgorithm;
      const key = await keys.open(id);
      if (key.keyId === '')
        throw new CosignkitError(
          'USAGE',
          'createKey needs a reference that names the key (e.g. object=… or a file name)',
        );
      const info = await key.manager.generateKeyPair({ algorithm, label: key.keyId });
      return { createKey: { publicKeyPEM: base64(info.publicKeyPem) } };
    }
    case 'publicKey': {
      const key = await named(keys, id);
      return { publicKey: { publicKeyPEM: base64(await key.manager.getPublicKeyPem(key.keyId)) } };
    }
    case 'signMessage': {
      const options = messageOptionsOf(args.signOptions);
      const hash = hashOf(options.hashFunc ?? request.initOptions.hashFunc);
      if (options.digest != null && keys.signDigest) {
        const signature = await keys.signDigest(id, decodeDigest(options.digest, hash.length));
        return { signMessage: { signature: base64(signature) } };
      }
      const key = await named(keys, id);
      const algorithm = key.algorithm ?? (await key.manager.getAlgorithm(key.keyId));
      let signature: Uint8Array;
      if (algorithm === 'ed25519') {
        if (options.digest != null)
          throw new CosignkitError('NOT_SUPPORTED', 'ed25519 keys sign messages, not digests');
        if (!key.manager.signMessage)
          throw new CosignkitError('NOT_SUPPORTED', 'this backend cannot sign whole messages');
        // Pure Ed25519 needs the whole message at once: the one case read into memory.
        signature = await key.manager.signMessage(key.keyId, await readAll(stdin));
      } else {
        const digest =
          options.digest != null ? decodeDigest(options.digest, hash.length) : await digestOf(stdin, hash.name);
        signature = await key.manager.signDigest(key.keyId, digest);
      }
      return { signMessage: { signature: base64(signature) } };
    }
    case 'verifySignature': {
      const options = messageOptionsOf(args.verifyOptions);
      if (options.digest != null) {
        throw new CosignkitError(
          'NOT_SUPPORTED',
          'verifySignature needs the message on stdin, not a precomputed digest',
        );
      }
      if (typeof args.signature !== 'string') throw new CosignkitError('USAGE', 'verifySignature has no signature');
      const signature = Buffer.from(args.signature, 'base64');
      const hash = hashOf(options.hashFunc ?? request.initOptions.hashFunc);
      const key = await named(keys, id);
      // node:crypto only when needed: a signature with a digest given (the agent's fast path) never loads it.
      const { createPublicKey, createVerify, verify } = await import('node:crypto');
      const publicKey = createPublicKey(await key.manager.getPublicKeyPem(key.keyId));
      let valid: boolean;
      if (publicKey.asymmetricKeyType === 'ed25519') {
        valid = verify(null, await readAll(stdin), publicKey, signature);
      } else {
        const verifier = createVerify(hash.name);
        for await (const chunk of stdin) verifier.update(chunk);
        valid = verifier.verify(publicKey, signature);
      }
      if (!valid) throw new CosignkitError('VERIFICATION_FAILED', 'the signature does not match the message and key');
      return { verifySignature: {} };
    }
  }
}

async function named(keys: PluginKeys, id: string): Promise<PluginKey> {
  const key = await keys.open(id);
  if (key.keyId === '') throw new CosignkitError('USAGE', 'the key reference names a key store, not a key');
  return key;
}

function base64(value: string | Uint8Array): string {
  return Buffer.from(value).toString('base64');
}

function decodeDigest(text: string, expected: number): Uint8Array {
  // Node's decoder skips junk silently: a digest that is not base64 is refused, not half-read.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new CosignkitError('USAGE', 'the digest is not base64');
  const digest = Buffer.from(text, 'base64');
  if (digest.length !== expected) {
    throw new CosignkitError(
      'DIGEST_LENGTH',
      `the digest is ${digest.length} bytes; the hash function asked for gives ${expected}`,
    );
  }
  return digest;
}

export async function digestOf(stream: AsyncIterable<Uint8Array>, algorithm: string): Promise<Uint8Array> {
  const { createHash } = await import('node:crypto');
  const hash = createHash(algorithm);
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest();
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}
