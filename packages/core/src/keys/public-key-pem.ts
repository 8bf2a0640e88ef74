import { createPublicKey, type KeyObject } from 'node:crypto';
import { CosignkitError } from '../errors.js';
import { readBoundedFile } from '../files/read-bounded-file.js';
import { algorithmOfKey } from './algorithms.js';

/** A PEM public key (or a key map of them) is a few hundred bytes; this leaves room for comments. */
export const MAX_PUBLIC_KEY_FILE_BYTES = 64 * 1024;

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/;

/** The label of the first PEM block in `text` (text before it is skipped, as Go's pem.Decode does), if any. */
export function firstPemLabel(text: string): string | undefined {
  return PEM_BEGIN.exec(text)?.[1];
}

/**
 * The one reader of PEM public keys, used wherever a user hands one in (verify-blob --key, verify-dsse
 * --key-file, key maps): the first PEM block must be `PUBLIC KEY` (PKIX) of a supported algorithm. Anything
 * else — empty, garbage, `RSA PUBLIC KEY`, a private key — is KEY_MALFORMED (ALGORITHM_UNSUPPORTED for an RSA PKIX key), never a
 * password prompt.
 */
export function parsePublicKeyPem(text: string, source: string): KeyObject {
  const label = firstPemLabel(text);
  if (label === undefined) throw new CosignkitError('KEY_MALFORMED', `${source} holds no PEM public key`);
  if (label !== 'PUBLIC KEY') {
    throw new CosignkitError('KEY_MALFORMED', `${source} holds a "${label}" PEM block, not a PKIX "PUBLIC KEY"`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(text.slice(text.indexOf('-----BEGIN PUBLIC KEY-----')));
  } catch (error) {
    throw new CosignkitError('KEY_MALFORMED', `${source} is not a valid PEM public key`, { cause: error });
  }
  algorithmOfKey(key); // ALGORITHM_UNSUPPORTED for RSA, DSA and other algorithms cosignkit does not verify
  return key;
}

/** Reads a small text file that should hold a public key or a key map (bounded, regular files only). */
export async function readPublicKeyText(path: string): Promise<string> {
  const bytes = await readBoundedFile(path, {
    maxBytes: MAX_PUBLIC_KEY_FILE_BYTES,
    tooLargeCode: 'KEY_MALFORMED',
    what: 'a public key',
  });
  return bytes.toString('utf8');
}
