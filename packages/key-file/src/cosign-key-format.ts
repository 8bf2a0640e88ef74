import { createPrivateKey, createPublicKey, randomBytes, scrypt, type KeyObject } from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { CosignkitError, algorithmOfKey, escapeForTerminal, type KeyAlgorithm } from '@cosignkit/core';
import { READ_N, SCRYPT_MAXMEM, SCRYPT_P, SCRYPT_R, WRITE_N } from './scrypt-params.js';
import { takePrestartedKey } from './scrypt-prestart.js';

/** The label cosign writes since v2; the older label is still read. */
export const COSIGN_KEY_LABEL = 'ENCRYPTED SIGSTORE PRIVATE KEY';
export const LEGACY_COSIGN_KEY_LABEL = 'ENCRYPTED COSIGN PRIVATE KEY';
const READ_LABELS = new Set([COSIGN_KEY_LABEL, LEGACY_COSIGN_KEY_LABEL]);

const SALT_LENGTH = 32;
const NONCE_LENGTH = 24;
const TAG_LENGTH = 16;

interface CosignKeyEnvelope {
  kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

export interface DecryptedCosignKey {
  privateKey: KeyObject;
  algorithm: KeyAlgorithm;
}

/**
 * Encrypts a private key into cosign's key file format (PEM `ENCRYPTED SIGSTORE PRIVATE KEY`). The password
 * may be empty, as in cosign. Returns the whole PEM text, ending in a newline.
 */
export async function encryptCosignKey(privateKey: KeyObject, password: string): Promise<string> {
  if (privateKey.type !== 'private') throw new CosignkitError('USAGE', 'encryptCosignKey needs a private key');
  algorithmOfKey(privateKey);
  const plaintext = privateKey.export({ type: 'pkcs8', format: 'der' });
  const salt = randomBytes(SALT_LENGTH);
  const nonce = randomBytes(NONCE_LENGTH);
  const key = await deriveKey(password, salt, WRITE_N);
  // @noble's xsalsa20poly1305 lays the box out as tag ‖ ciphertext, exactly like nacl's secretbox.
  const box = xsalsa20poly1305(key, nonce).encrypt(plaintext);
  key.fill(0);
  plaintext.fill(0);
  // Property order is the format: cosign (Go's encoding/json) writes these fields in this order.
  const envelope: CosignKeyEnvelope = {
    kdf: { name: 'scrypt', params: { N: WRITE_N, r: SCRYPT_R, p: SCRYPT_P }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(box).toString('base64'),
  };
  return pemEncode(COSIGN_KEY_LABEL, Buffer.from(JSON.stringify(envelope), 'utf8'));
}

/**
 * Decrypts a cosign key file (either label). Codes: KEY_MALFORMED (truncated or corrupt PEM/JSON),
 * KEY_UNSUPPORTED (other scrypt parameters, another KDF or cipher, a SEC1 plaintext), PASSWORD_INCORRECT
 * (authentication failed), ALGORITHM_UNSUPPORTED (RSA, P-521…).
 */
export async function decryptCosignKey(
  pem: string,
  password: string,
  source = 'key file',
): Promise<DecryptedCosignKey> {
  const envelope = parseEnvelope(pem, source);
  const { N, r, p } = envelope.kdf.params;
  if (!READ_N.has(N) || r !== SCRYPT_R || p !== SCRYPT_P) {
    throw new CosignkitError('KEY_UNSUPPORTED', `${source}: unsupported scrypt parameters (N=${N}, r=${r}, p=${p})`);
  }
  const salt = strictBase64(envelope.kdf.salt, `${source}: kdf salt`);
  const nonce = strictBase64(envelope.cipher.nonce, `${source}: cipher nonce`);
  const ciphertext = strictBase64(envelope.ciphertext, `${source}: ciphertext`);
  if (salt.length !== SALT_LENGTH) throw malformed(`${source}: the salt is ${salt.length} bytes, not ${SALT_LENGTH}`);
  if (nonce.length !== NONCE_LENGTH)
    throw malformed(`${source}: the nonce is ${nonce.length} bytes, not ${NONCE_LENGTH}`);
  if (ciphertext.length <= TAG_LENGTH) throw malformed(`${source}: the ciphertext is too short`);

  const derivation = deriveKey(password, salt, N);
  warmUpDecryption();
  const key = await derivation;
  let plaintext: Uint8Array;
  try {
    plaintext = xsalsa20poly1305(key, nonce).decrypt(ciphertext);
  } catch (error) {
    // A wrong password and a tampered ciphertext are indistinguishable: the tag does not match.
    throw new CosignkitError('PASSWORD_INCORRECT', `${source}: incorrect password (or the key file was altered)`, {
      cause: error,
    });
  } finally {
    key.fill(0);
  }
  try {
    const privateKey = parsePlaintext(
      Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength),
      source,
    );
    return { privateKey, algorithm: algorithmOfKey(privateKey) };
  } finally {
    plaintext.fill(0);
  }
}

/**
 * The public key of P-256's generator (private scalar 1): a well-known public value, no secret. Decoding and
 * encoding it once primes OpenSSL's key decoders and encoders, whose first use costs 5–30 ms.
 */
const WARM_UP_SPKI = Buffer.from(
  '3059301306072a8648ce3d020106082a8648ce3d030107034200' +
    '046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296' +
    '4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5',
  'hex',
);

/**
 * While scrypt runs on the thread pool, does once what comes after it for the first time in this process: the
 * pure-JS cipher on a throwaway box (its first run is interpreted and compiled) and OpenSSL's first key decode
 * and encode. Otherwise both land after scrypt, on a one-shot sign-blob's critical path (issue 19). Nothing
 * of it is kept; a failure here changes nothing.
 */
function warmUpDecryption(): void {
  try {
    xsalsa20poly1305(new Uint8Array(32), new Uint8Array(NONCE_LENGTH)).decrypt(new Uint8Array(TAG_LENGTH + 32));
  } catch {
    // Expected: the tag of a zero box does not match.
  }
  try {
    createPublicKey({ key: WARM_UP_SPKI, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' });
  } catch {
    // Only a warm-up.
  }
}

/** True when the text holds a cosign encrypted key PEM block (either label). */
export function isCosignKeyPem(text: string): boolean {
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1];
  return label !== undefined && READ_LABELS.has(label);
}

function parsePlaintext(der: Buffer, source: string): KeyObject {
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch (pkcs8Error) {
    // cosign refuses a SEC1 plaintext ("use ParseECPrivateKey instead"); we refuse it too, so that every key
    // file cosignkit accepts, cosign accepts as well.
    if (isSec1(der)) {
      throw new CosignkitError(
        'KEY_UNSUPPORTED',
        `${source}: the encrypted key is a SEC1 "EC PRIVATE KEY", not PKCS#8, and cosign refuses it too; ` +
          're-import the unencrypted key with import-key-pair',
        { cause: pkcs8Error },
      );
    }
    throw malformed(`${source}: the decrypted key is not a PKCS#8 private key`, pkcs8Error);
  }
}

function isSec1(der: Buffer): boolean {
  try {
    createPrivateKey({ key: der, format: 'der', type: 'sec1' });
    return true;
  } catch {
    return false;
  }
}

function parseEnvelope(pem: string, source: string): CosignKeyEnvelope {
  const body = pemBody(pem, source);
  let json: unknown;
  try {
    json = JSON.parse(strictBase64(body, `${source}: PEM body`).toString('utf8'));
  } catch (error) {
    if (CosignkitError.isInstance(error)) throw error;
    throw malformed(`${source}: the PEM body is not JSON (truncated or corrupt)`, error);
  }
  const e = json as Partial<CosignKeyEnvelope> | null;
  const params = e?.kdf?.params;
  if (
    typeof e !== 'object' ||
    e === null ||
    typeof e.kdf?.name !== 'string' ||
    typeof e.kdf.salt !== 'string' ||
    typeof params !== 'object' ||
    params === null ||
    typeof e.cipher?.name !== 'string' ||
    typeof e.cipher.nonce !== 'string' ||
    typeof e.ciphertext !== 'string'
  ) {
    throw malformed(`${source}: the key JSON lacks kdf, cipher or ciphertext fields`);
  }
  if (e.kdf.name !== 'scrypt')
    throw new CosignkitError('KEY_UNSUPPORTED', `${source}: unsupported kdf ${quoted(e.kdf.name)}`);
  if (e.cipher.name !== 'nacl/secretbox') {
    throw new CosignkitError('KEY_UNSUPPORTED', `${source}: unsupported cipher ${quoted(e.cipher.name)}`);
  }
  if (![params.N, params.r, params.p].every((v) => Number.isSafeInteger(v))) {
    throw malformed(`${source}: scrypt parameters are not integers`);
  }
  return e as CosignKeyEnvelope;
}

function pemBody(pem: string, source: string): string {
  const begin = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n/.exec(pem);
  if (!begin) throw malformed(`${source}: no PEM block found`);
  const label = begin[1]!;
  if (!READ_LABELS.has(label)) {
    throw new CosignkitError(
      'KEY_UNSUPPORTED',
      `${source}: a "${label}" PEM block is not a cosign encrypted key (import a plain key with import-key-pair)`,
    );
  }
  const start = begin.index + begin[0].length;
  const endMarker = `-----END ${label}-----`;
  const end = pem.indexOf(endMarker, start);
  if (end < 0) throw malformed(`${source}: the PEM block has no END line (truncated?)`);
  return pem.slice(start, end).replace(/\s+/g, '');
}

/** Node's base64 decoder skips junk silently; a key file with junk in it is corrupt, so check first. */
function strictBase64(text: string, what: string): Buffer {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw malformed(`${what} is not valid base64`);
  return Buffer.from(text, 'base64');
}

function pemEncode(label: string, bytes: Buffer): string {
  const lines = bytes.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

async function deriveKey(password: string, salt: Buffer, N: number): Promise<Buffer> {
  const ahead = await takePrestartedKey(password, salt, N, SCRYPT_R, SCRYPT_P);
  if (ahead) return ahead;
  return new Promise((resolve, reject) => {
    scrypt(
      Buffer.from(password, 'utf8'),
      salt,
      32,
      { N, r: SCRYPT_R, p: SCRYPT_P, maxmem: SCRYPT_MAXMEM },
      (error, key) => {
        if (error) reject(new CosignkitError('INTERNAL', `scrypt failed: ${error.message}`, { cause: error }));
        else resolve(key);
      },
    );
  });
}

/** A name read from the key file, quoted and escaped: a hostile file cannot put control characters in a message. */
function quoted(text: string): string {
  return escapeForTerminal(JSON.stringify(text));
}

function malformed(message: string, cause?: unknown): CosignkitError {
  return new CosignkitError('KEY_MALFORMED', message, cause === undefined ? {} : { cause });
}
