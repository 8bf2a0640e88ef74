import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { dirname } from 'node:path';
import {
  CosignkitError,
  algorithmOfKey,
  fingerprintOf,
  publicKeyPem,
  readBoundedFile,
  type KeyAlgorithm,
} from '@cosignkit/core';
import { encryptCosignKey, isCosignKeyPem } from './cosign-key-format.js';
import { recoverInterruptedPairs, writeKeyPair } from './key-pair-writer.js';
import { KEY_EXTENSION, PUBLIC_EXTENSION, isFile } from './key-paths.js';

export interface ImportKeyPairOptions {
  /** Path of an unencrypted PEM private key: PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE KEY`. */
  input: string;
  /** Writes `<outputPrefix>.key` and `<outputPrefix>.pub` (cosign's `--output-key-prefix`, default `import-cosign`). */
  outputPrefix?: string;
  /** The password of the new cosign key file; may be empty. */
  password: string;
}

export interface ImportedKeyPair {
  keyPath: string;
  pubPath: string;
  algorithm: KeyAlgorithm;
  publicKeyPem: string;
  fingerprint: string;
}

const MAX_PEM_BYTES = 64 * 1024;
const PRIVATE_KEY_BLOCK = /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY)-----[\s\S]*?-----END \1-----/;

/** Converts a plain PEM key (P-256, P-384, Ed25519) into a cosign key pair, as `cosign import-key-pair`. */
export async function importKeyPair(options: ImportKeyPairOptions): Promise<ImportedKeyPair> {
  const prefix = options.outputPrefix ?? 'import-cosign';
  const keyPath = `${prefix}${KEY_EXTENSION}`;
  const pubPath = `${prefix}${PUBLIC_EXTENSION}`;
  await recoverInterruptedPairs(dirname(keyPath));
  for (const path of [keyPath, pubPath]) {
    if (await isFile(path)) throw new CosignkitError('KEY_EXISTS', `${path} already exists; refusing to overwrite it`);
  }
  const privateKey = parsePlainPrivateKey(await readPem(options.input), options.input);
  const algorithm = supportedAlgorithm(privateKey, options.input);
  const publicKey = createPublicKey(privateKey);
  const pem = await encryptCosignKey(privateKey, options.password);
  await writeKeyPair(keyPath, pem, pubPath, publicKeyPem(publicKey));
  return { keyPath, pubPath, algorithm, publicKeyPem: publicKeyPem(publicKey), fingerprint: fingerprintOf(publicKey) };
}

function parsePlainPrivateKey(text: string, source: string): KeyObject {
  if (isCosignKeyPem(text)) {
    throw new CosignkitError('KEY_UNSUPPORTED', `${source} is already a cosign key file: nothing to import`);
  }
  const block = PRIVATE_KEY_BLOCK.exec(text);
  if (!block) throw new CosignkitError('KEY_MALFORMED', `${source} holds no PEM private key`);
  const label = block[1]!;
  if (label === 'RSA PRIVATE KEY') {
    throw new CosignkitError('KEY_UNSUPPORTED', `${source} is an RSA key: use ECDSA P-256, P-384 or Ed25519`);
  }
  if (label === 'ENCRYPTED PRIVATE KEY') {
    throw new CosignkitError(
      'KEY_UNSUPPORTED',
      `${source} is an encrypted PKCS#8 key: decrypt it first (openssl pkcs8 -in KEY -out PLAIN.pem)`,
    );
  }
  if (label !== 'PRIVATE KEY' && label !== 'EC PRIVATE KEY') {
    throw new CosignkitError(
      'KEY_UNSUPPORTED',
      `${source}: a "${label}" is not supported (use a PKCS#8 or SEC1 PEM key)`,
    );
  }
  try {
    return createPrivateKey({ key: block[0], format: 'pem' });
  } catch (error) {
    throw new CosignkitError('KEY_MALFORMED', `${source}: the ${label} PEM block cannot be parsed`, { cause: error });
  }
}

function supportedAlgorithm(key: KeyObject, source: string): KeyAlgorithm {
  try {
    return algorithmOfKey(key);
  } catch (error) {
    const what = CosignkitError.isInstance(error) ? error.message : String(error);
    throw new CosignkitError('KEY_UNSUPPORTED', `${source}: ${what}`, { cause: error });
  }
}

async function readPem(path: string): Promise<string> {
  // Kind and size checked on the open descriptor: a FIFO or a huge file is refused, not read.
  const bytes = await readBoundedFile(path, {
    maxBytes: MAX_PEM_BYTES,
    tooLargeCode: 'KEY_MALFORMED',
    what: 'a PEM key',
  });
  return bytes.toString('utf8');
}
