import {
  createPublicKey,
  createSign,
  generateKeyPair as generateNodeKeyPair,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import {
  ALGORITHMS,
  CosignkitError,
  algorithmOfKey,
  assertDigestLength,
  fingerprintOf,
  isKeyAlgorithm,
  publicKeyPem,
  prepareEcdsaDigestSigner,
  readBoundedFile,
  signEcdsaDigest,
  throwIfAborted,
  silentLogger,
  type GenerateKeyOptions,
  type KeyAlgorithm,
  type KeyInfo,
  type KeyManager,
  type MessageSigner,
  type Logger,
  type SecretProvider,
  type SignOptions,
} from '@cosignkit/core';
import { decryptCosignKey, encryptCosignKey, type DecryptedCosignKey } from './cosign-key-format.js';
import { recoverInterruptedPairs, writeKeyPair } from './key-pair-writer.js';
import {
  KEY_EXTENSION,
  conventionalPaths,
  isFile,
  keyIdOfPath,
  keyRefOf,
  resolveKeyPaths,
  type KeyPaths,
} from './key-paths.js';

const generateAsync = promisify(generateNodeKeyPair);
/** A cosign key file is under a kilobyte; anything this big is not one (and is not read into memory). */
const MAX_KEY_FILE_BYTES = 64 * 1024;

export interface FileKeyManagerOptions {
  /** Asked for `{kind: 'password', purpose: 'unlock' | 'create', subject: <key path>}`. */
  secrets: SecretProvider;
  logger?: Logger;
  /** The id generateKeyPair uses without a label (the key a reference named); default `cosign`, as cosign. */
  defaultId?: string;
}

/**
 * A directory of cosign key files: key id `release` is `<dir>/release.key` (+ `<dir>/release.pub`).
 * A key is decrypted once (one password request) and kept in memory until close().
 */
export class FileKeyManager implements KeyManager {
  readonly backend = 'file';
  readonly dir: string;
  readonly #secrets: SecretProvider;
  readonly #logger: Logger;
  readonly #defaultId: string;
  readonly #unlocked = new Map<string, Promise<DecryptedCosignKey>>();
  /** Where each key id was found: resolved once, not with a stat per signature (a signing service's hot path). */
  readonly #resolved = new Map<string, KeyPaths>();
  /**
   * The public half of each unlocked key and its fingerprint, derived once: deriving them costs more than an
   * OpenSSL signature, and envelope signing asks for both on every signature.
   */
  readonly #publicOf = new Map<string, Promise<{ key: KeyObject; algorithm: KeyAlgorithm; fingerprint: string }>>();

  constructor(dir: string, options: FileKeyManagerOptions) {
    this.dir = dir;
    this.#secrets = options.secrets;
    this.#logger = options.logger ?? silentLogger;
    this.#defaultId = options.defaultId || 'cosign';
  }

  async generateKeyPair(options: GenerateKeyOptions = {}): Promise<KeyInfo> {
    throwIfAborted(options.signal);
    const algorithm = options.algorithm ?? 'ecdsa-p256-sha256';
    if (!isKeyAlgorithm(algorithm)) {
      throw new CosignkitError('ALGORITHM_UNSUPPORTED', `the file backend cannot generate "${String(algorithm)}" keys`);
    }
    const paths = conventionalPaths(this.dir, options.label ?? this.#defaultId);
    const pubPath = paths.pubPath!;
    // A `.pub` orphaned by a killed pair write is removed first, so it does not block the new pair.
    await recoverInterruptedPairs(this.dir);
    for (const path of [paths.keyPath, pubPath]) {
      if (await isFile(path))
        throw new CosignkitError('KEY_EXISTS', `${path} already exists; refusing to overwrite it`);
    }
    const password = await this.#secrets({ kind: 'password', purpose: 'create', subject: paths.keyPath });
    throwIfAborted(options.signal);
    const { privateKey, publicKey } = await newKeyPair(algorithm);
    const pem = await encryptCosignKey(privateKey, password);
    await mkdir(this.dir, { recursive: true }).catch((error: unknown) => {
      throw new CosignkitError('IO', `cannot create ${this.dir}: ${(error as Error).message}`, { cause: error });
    });
    await writeKeyPair(paths.keyPath, pem, pubPath, publicKeyPem(publicKey));
    this.#unlocked.set(paths.keyPath, Promise.resolve({ privateKey, algorithm }));
    this.#publicOf.delete(paths.keyPath);
    this.#logger.debug('generated a key pair', { keyPath: paths.keyPath, algorithm });
    return this.#infoOf(paths, publicKey);
  }

  /**
   * The key's own public key, derived from the private key (one password request). The `.pub` beside the
   * key is never trusted here: it may belong to another key, or be the very file a shell is truncating
   * (`public-key --key k.key > k.pub`).
   */
  async getPublicKey(id: string): Promise<KeyObject> {
    return (await this.#publicOfUnlocked(await this.#paths(id))).key;
  }

  async getPublicKeyPem(id: string): Promise<string> {
    return publicKeyPem(await this.getPublicKey(id));
  }

  async getPublicKeyFingerprint(id: string): Promise<string> {
    return (await this.#publicOfUnlocked(await this.#paths(id))).fingerprint;
  }

  /** Answered from the `.pub` when there is one (no password); signing checks the decrypted key again. */
  async getAlgorithm(id: string): Promise<KeyAlgorithm> {
    const paths = await this.#paths(id);
    if (this.#unlocked.has(paths.keyPath)) return (await this.#publicOfUnlocked(paths)).algorithm;
    return algorithmOfKey(await this.#publicKeyHint(paths));
  }

  async signDigest(id: string, digest: Uint8Array, options: SignOptions = {}): Promise<Uint8Array> {
    throwIfAborted(options.signal);
    const paths = await this.#paths(id);
    // Check the digest before asking for a password: a wrong call should not prompt anyone. The `.pub`
    // only gives a hint here; the decrypted key's own algorithm is checked again below.
    if (!this.#unlocked.has(paths.keyPath))
      assertDigestLength(algorithmOfKey(await this.#publicKeyHint(paths)), digest);
    const { privateKey, algorithm } = await this.#unlock(paths);
    throwIfAborted(options.signal);
    assertDigestLength(algorithm, digest);
    return signEcdsaDigest(privateKey, algorithm, digest);
  }

  /** Decrypts the key (scrypt, in the thread pool) while the digest signer loads, without signing. */
  async prepare(id: string, options: SignOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    const paths = await this.#paths(id);
    const algorithm = algorithmOfKey(await this.#publicKeyHint(paths));
    await Promise.all([this.#unlock(paths), prepareEcdsaDigestSigner(algorithm)]);
  }

  /** OpenSSL hashes and signs in one streaming pass: what batch signing uses for P-256 keys. */
  async createMessageSigner(id: string, options: SignOptions = {}): Promise<MessageSigner | undefined> {
    throwIfAborted(options.signal);
    const { privateKey, algorithm } = await this.#unlock(await this.#paths(id));
    if (algorithm !== 'ecdsa-p256-sha256') return undefined;
    // The streaming state is made on the first update: a caller signing whole messages (signOnce) never pays it.
    let signer: ReturnType<typeof createSign> | undefined;
    const streaming = (): ReturnType<typeof createSign> => (signer ??= createSign('sha256'));
    return {
      update: (chunk) => void streaming().update(chunk),
      sign: () => new Uint8Array(streaming().sign({ key: privateKey, dsaEncoding: 'der' })),
      // DER is node:crypto's default encoding for EC keys; the plain KeyObject spares parsing options per call.
      signOnce: (message) => new Uint8Array(sign('sha256', message, privateKey)),
    };
  }

  async signMessage(id: string, message: Uint8Array, options: SignOptions = {}): Promise<Uint8Array> {
    throwIfAborted(options.signal);
    const { privateKey, algorithm } = await this.#unlock(await this.#paths(id));
    throwIfAborted(options.signal);
    // ECDSA: OpenSSL hashes and signs in one call (the same result as hashing, then signDigest).
    const hash = algorithm === 'ed25519' ? null : ALGORITHMS[algorithm].hash;
    return new Uint8Array(sign(hash, message, privateKey));
  }

  async verifySignature(id: string, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
    const publicKey = await this.getPublicKey(id);
    const algorithm = algorithmOfKey(publicKey);
    const hash = algorithm === 'ed25519' ? null : ALGORITHMS[algorithm].hash;
    try {
      return verify(hash, message, { key: publicKey, dsaEncoding: 'der' }, signature);
    } catch {
      // OpenSSL rejects some malformed signature encodings by throwing: such a signature does not verify.
      return false;
    }
  }

  async listKeys(): Promise<KeyInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new CosignkitError('IO', `cannot list ${this.dir}: ${(error as Error).message}`, { cause: error });
    }
    const infos: KeyInfo[] = [];
    for (const name of names.filter((n) => n.endsWith(KEY_EXTENSION) && n.length > KEY_EXTENSION.length).sort()) {
      const paths = conventionalPaths(this.dir, keyIdOfPath(name));
      if (!(await isFile(paths.keyPath))) continue;
      // Listing never asks for a password: the fingerprint comes from the `.pub` beside the key (or from a
      // key already unlocked in this process). A key without one is named in a warning, not decrypted.
      const unlocked = this.#unlocked.has(paths.keyPath);
      if (!unlocked && !(paths.pubPath && (await isFile(paths.pubPath)))) {
        this.#logger.warn(
          `not listing ${paths.keyPath}: it has no ${paths.id}.pub beside it, and listing never asks for a ` +
            `password (write one with "cosignkit public-key --key ${paths.keyPath} --outfile ${paths.pubPath}")`,
        );
        continue;
      }
      infos.push(this.#infoOf(paths, await this.#publicKeyHint(paths)));
    }
    return infos;
  }

  async deleteKey(id: string): Promise<void> {
    const paths = await resolveKeyPaths(this.dir, id);
    this.#resolved.delete(id);
    this.#unlocked.delete(paths.keyPath);
    this.#publicOf.delete(paths.keyPath);
    await removeFile(paths.keyPath);
    if (paths.pubPath) await removeFile(paths.pubPath, true);
  }

  async #paths(id: string): Promise<KeyPaths> {
    const known = this.#resolved.get(id);
    if (known) return known;
    const paths = await resolveKeyPaths(this.dir, id);
    this.#resolved.set(id, paths);
    return paths;
  }

  async close(): Promise<void> {
    // Dropping the references is all JavaScript allows: KeyObject memory is freed by the collector.
    this.#unlocked.clear();
    this.#publicOf.clear();
    this.#resolved.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * A public key good enough to choose an algorithm or to list keys: the unlocked key's when it is in
   * memory, else the `.pub` beside the key (unverified), else the decrypted key. Never reported as the key's own.
   */
  async #publicKeyHint(paths: KeyPaths): Promise<KeyObject> {
    if (this.#unlocked.has(paths.keyPath)) return (await this.#publicOfUnlocked(paths)).key;
    if (paths.pubPath && (await isFile(paths.pubPath))) {
      const pem = await readSmallFile(paths.pubPath);
      let key: KeyObject;
      try {
        key = createPublicKey(pem);
      } catch (error) {
        throw new CosignkitError('KEY_MALFORMED', `${paths.pubPath} is not a PEM public key`, { cause: error });
      }
      algorithmOfKey(key);
      return key;
    }
    return createPublicKey((await this.#unlock(paths)).privateKey);
  }

  /** The unlocked key's own public key, algorithm and fingerprint, derived once per unlock. */
  #publicOfUnlocked(paths: KeyPaths): Promise<{ key: KeyObject; algorithm: KeyAlgorithm; fingerprint: string }> {
    const unlocking = this.#unlock(paths);
    let known = this.#publicOf.get(paths.keyPath);
    if (!known) {
      known = unlocking.then(({ privateKey }) => {
        const key = createPublicKey(privateKey);
        return { key, algorithm: algorithmOfKey(key), fingerprint: fingerprintOf(key) };
      });
      this.#publicOf.set(paths.keyPath, known);
      known.catch(() => {
        if (this.#publicOf.get(paths.keyPath) === known) this.#publicOf.delete(paths.keyPath);
      });
    }
    return known;
  }

  /** Decrypts a key once; concurrent callers share the one password request. A failure is not cached. */
  #unlock(paths: KeyPaths): Promise<DecryptedCosignKey> {
    let unlocking = this.#unlocked.get(paths.keyPath);
    if (!unlocking) {
      unlocking = (async () => {
        const pem = await readSmallFile(paths.keyPath);
        const password = await this.#secrets({ kind: 'password', purpose: 'unlock', subject: paths.keyPath });
        const key = await decryptCosignKey(pem, password, paths.keyPath);
        this.#logger.debug('unlocked a key file', { keyPath: paths.keyPath });
        return key;
      })();
      this.#unlocked.set(paths.keyPath, unlocking);
      unlocking.catch(() => {
        if (this.#unlocked.get(paths.keyPath) === unlocking) this.#unlocked.delete(paths.keyPath);
      });
    }
    return unlocking;
  }

  #infoOf(paths: KeyPaths, publicKey: KeyObject): KeyInfo {
    return {
      id: paths.id,
      label: paths.id,
      algorithm: algorithmOfKey(publicKey),
      backend: this.backend,
      ref: keyRefOf(paths.keyPath),
      publicKeyPem: publicKeyPem(publicKey),
      fingerprint: fingerprintOf(publicKey),
    };
  }
}

async function newKeyPair(algorithm: KeyAlgorithm): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  if (algorithm === 'ed25519') return generateAsync('ed25519');
  return generateAsync('ec', { namedCurve: ALGORITHMS[algorithm].namedCurve! });
}

/**
 * A key file's text, checked on its open descriptor (core's readBoundedFile): a regular file of at most
 * MAX_KEY_FILE_BYTES, so nothing swapped in after a check is read, and no FIFO hangs the read.
 */
async function readSmallFile(path: string): Promise<string> {
  try {
    const bytes = await readBoundedFile(path, {
      maxBytes: MAX_KEY_FILE_BYTES,
      tooLargeCode: 'KEY_MALFORMED',
      what: 'a key file',
    });
    return bytes.toString('utf8');
  } catch (error) {
    if (CosignkitError.isInstance(error) && error.code === 'FILE_NOT_FOUND') {
      throw new CosignkitError('KEY_NOT_FOUND', `${path} does not exist`, { cause: error });
    }
    throw error;
  }
}

async function removeFile(path: string, missingIsFine = false): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (missingIsFine && (error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new CosignkitError('IO', `cannot remove ${path}: ${(error as Error).message}`, { cause: error });
  }
}
