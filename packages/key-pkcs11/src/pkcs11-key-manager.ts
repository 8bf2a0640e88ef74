import { createHash, randomBytes, verify, type KeyObject } from 'node:crypto';
import type { Key, Session, SessionObject } from 'graphene-pk11';
import {
  ALGORITHMS,
  CosignkitError,
  assertDigestLength,
  fingerprintOf,
  publicKeyPem,
  rawToDer,
  type GenerateKeyOptions,
  type KeyAlgorithm,
  type KeyInfo,
  type KeyManager,
  type KeyRef,
  type Logger,
  type SignOptions,
} from '@cosignkit/core';
import { EC_PARAMS, algorithmOfParams, publicKeyFromPoint } from './ec-key.js';
import { graphene } from './graphene.js';
import { ID_PREFIX, keyQuery, keyRefText } from './key-uri.js';
import { isStaleHandle, wrapPkcs11Error } from './pkcs11-errors.js';
import type { TokenConnection } from './token-connection.js';

const CKA_EC_PARAMS = 0x180;
const CKA_EC_POINT = 0x181;
const CKK_EC = 3;

/** A key looked up on the token: its private-key object (handle) and what is public about it. */
interface TokenKey {
  id: string;
  label?: string;
  privateKey: SessionObject;
  algorithm: KeyAlgorithm;
  publicKey: KeyObject;
  publicKeyPem: string;
  fingerprint: string;
  /** The DER signature from the token's raw r‖s (`raw[from..to)`), whose length this key's curve fixes (made once per key). */
  der: (raw: Uint8Array, from?: number, to?: number) => Uint8Array;
}

export interface Pkcs11KeyManagerInit {
  connection: TokenConnection;
  /** The reference the store was opened with (for KeyInfo.ref). */
  store: KeyRef;
  logger: Logger;
  /** Called once by close(), after the connection is released (releases the module). */
  onClose?: () => void;
}

/**
 * The keys on one PKCS#11 token. Key ids are object labels (`id:<hex>` for a key with a CKA_ID and no
 * label). Private keys are generated on the token, sensitive and non-extractable; signing runs on signing
 * threads (or, with none, on a pool of sessions, asynchronously), with the digest computed and checked in Node.
 */
export class Pkcs11KeyManager implements KeyManager {
  readonly backend = 'pkcs11';
  readonly #connection: TokenConnection;
  readonly #store: KeyRef;
  readonly #logger: Logger;
  readonly #onClose: (() => void) | undefined;
  #closed: Promise<void> | undefined;
  /** Operations in flight (close() waits for them): a count, not a set of promises, to allocate nothing per call. */
  #active = 0;
  #drained: (() => void) | undefined;
  readonly #settled = (): void => {
    if (--this.#active === 0 && this.#drained) this.#drained();
  };

  constructor(init: Pkcs11KeyManagerInit) {
    this.#connection = init.connection;
    this.#store = init.store;
    this.#logger = init.logger;
    this.#onClose = init.onClose;
  }

  /** The label of the token this store is on. */
  get tokenLabel(): string {
    return this.#connection.token.label;
  }

  generateKeyPair(options: GenerateKeyOptions = {}): Promise<KeyInfo> {
    return this.#run(() => this.#generate(options));
  }

  async #generate(options: GenerateKeyOptions): Promise<KeyInfo> {
    const algorithm = options.algorithm ?? 'ecdsa-p256-sha256';
    const params = EC_PARAMS[algorithm];
    if (!params) {
      throw new CosignkitError(
        'ALGORITHM_UNSUPPORTED',
        `PKCS#11 keys can be ecdsa-p256-sha256 or ecdsa-p384-sha384, not ${algorithm}`,
      );
    }
    const label = options.label ?? `cosignkit-${randomBytes(6).toString('hex')}`;
    if (label === '' || label.startsWith(ID_PREFIX)) {
      throw new CosignkitError('USAGE', `a PKCS#11 key label must not be empty or start with "${ID_PREFIX}"`);
    }
    const { KeyGenMechanism, KeyType } = graphene();
    await this.#connection.exclusive(async () => {
      const existing = await this.#pool((s) => findPrivate(s, { label }));
      if (existing.length > 0) {
        throw new CosignkitError(
          'KEY_EXISTS',
          `a key labelled "${label}" already exists on token "${this.tokenLabel}"`,
        );
      }
      // A shared CKA_ID ties the two halves together (how delete and most tools find the public key).
      const id = randomBytes(16);
      const common = { keyType: KeyType.EC, token: true, label, id };
      await this.#pool(
        (session) =>
          new Promise<void>((resolve, reject) => {
            session.generateKeyPair(
              KeyGenMechanism.EC,
              // A signing key does one thing: tokens default the other usages on (SoftHSM2 gives a new EC
              // private key decrypt and unwrap), so every usage is spelled out, off but sign/verify.
              { ...common, paramsEC: params, verify: true, encrypt: false, wrap: false, verifyRecover: false },
              {
                ...common,
                private: true,
                sensitive: true,
                extractable: false,
                sign: true,
                decrypt: false,
                unwrap: false,
                derive: false,
                signRecover: false,
              },
              (error) => (error ? reject(error) : resolve()),
            );
          }),
        options.signal,
        `cannot generate a key pair on token "${this.tokenLabel}"`,
      );
    });
    this.#logger.debug('pkcs11: key generated', { token: this.tokenLabel, label, algorithm });
    this.#connection.cache.delete(label); // whatever was cached under this label before is gone
    return this.#info(await this.#key(label, options.signal));
  }

  getPublicKey(id: string): Promise<KeyObject> {
    return this.#run(async () => (await this.#key(id)).publicKey);
  }

  getPublicKeyPem(id: string): Promise<string> {
    return this.#run(async () => (await this.#key(id)).publicKeyPem);
  }

  getPublicKeyFingerprint(id: string): Promise<string> {
    return this.#run(async () => (await this.#key(id)).fingerprint);
  }

  getAlgorithm(id: string): Promise<KeyAlgorithm> {
    return this.#run(async () => (await this.#key(id)).algorithm);
  }

  signDigest(id: string, digest: Uint8Array, options?: SignOptions): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(closedError());
    const signal = options?.signal;
    const key = known.get(this.#connection.cache.get(id) as object);
    return this.#track(key ? this.#signWith(key, id, digest, signal) : this.#sign(id, digest, signal));
  }

  async #sign(id: string, digest: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    return this.#signWith(await this.#key(id, signal), id, digest, signal);
  }

  /**
   * Signs with a key at hand. A promise chain with the key's own `der`, not an async function: per signature
   * that allocates a few hundred bytes less, and at thousands of signatures a second the main thread's garbage
   * sets how often its scavenges stall the event loop (issue 19).
   */
  #signWith(key: TokenKey, id: string, digest: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
    try {
      assertDigestLength(key.algorithm, digest);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#signDer(key, digest, signal).catch((error: unknown) => this.#signAgain(error, id, digest, signal));
  }

  /** After a failed signature: once more with the key looked up again if its handle died, else the error. */
  async #signAgain(
    error: unknown,
    id: string,
    digest: Uint8Array,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    if (!isStaleHandle(error)) throw wrapPkcs11Error(error, `cannot sign with key "${id}"`);
    // The handle died (a logout elsewhere, the key replaced by another tool): look it up once more.
    this.#connection.cache.delete(id);
    const key = await this.#key(id, signal);
    return this.#signDer(key, digest, signal).catch((again: unknown) => {
      throw wrapPkcs11Error(again, `cannot sign with key "${id}"`);
    });
  }

  signMessage(id: string, message: Uint8Array, options: SignOptions = {}): Promise<Uint8Array> {
    return this.#run(async () => {
      const algorithm = (await this.#key(id, options.signal)).algorithm;
      return this.#sign(id, createHash(ALGORITHMS[algorithm].hash).update(message).digest(), options.signal);
    });
  }

  verifySignature(id: string, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
    return this.#run(async () => this.#verify(await this.#key(id), signature, message));
  }

  #verify(key: TokenKey, signature: Uint8Array, message: Uint8Array): boolean {
    try {
      return verify(ALGORITHMS[key.algorithm].hash, message, { key: key.publicKey, dsaEncoding: 'der' }, signature);
    } catch {
      return false; // not DER at all: a signature that does not verify
    }
  }

  listKeys(): Promise<KeyInfo[]> {
    return this.#run(() => this.#list());
  }

  async #list(): Promise<KeyInfo[]> {
    const { KeyType } = graphene();
    const found = await this.#pool(
      (s) =>
        findObjects(s, { keyType: KeyType.EC }).map((o) => ({
          label: readLabel(o),
          id: o.getAttribute('id') as Buffer | undefined,
        })),
      undefined,
      `cannot list the keys on token "${this.tokenLabel}"`,
    );
    const infos: KeyInfo[] = [];
    for (const { label, id } of found) {
      const keyId = label ? label : id?.length ? `${ID_PREFIX}${id.toString('hex')}` : undefined;
      if (keyId === undefined) continue; // nothing a reference could name
      try {
        infos.push(this.#info(await this.#key(keyId)));
      } catch (error) {
        // Another curve, a missing public half, a duplicate label: not a key this backend can use.
        if (!CosignkitError.isInstance(error)) throw error;
        this.#logger.debug('pkcs11: key skipped in list', { token: this.tokenLabel, key: keyId, code: error.code });
      }
    }
    return infos.sort((a, b) => a.id.localeCompare(b.id));
  }

  deleteKey(id: string): Promise<void> {
    return this.#run(() => this.#delete(id));
  }

  async #delete(id: string): Promise<void> {
    const query = keyQuery(id);
    await this.#connection.exclusive(() =>
      this.#pool(
        (session) => {
          const privates = findPrivate(session, query);
          if (privates.length === 0) throw this.#notFound(id);
          if (privates.length > 1) throw this.#ambiguous(id, privates.length);
          const priv = privates[0]!;
          const publics = findPublicFor(session, priv, query);
          session.destroy(priv);
          for (const pub of publics) session.destroy(pub);
        },
        undefined,
        `cannot delete key "${id}" on token "${this.tokenLabel}"`,
      ),
    );
    this.#connection.cache.delete(id);
    this.#logger.debug('pkcs11: key deleted', { token: this.tokenLabel, key: id });
  }

  async close(): Promise<void> {
    this.#closed ??= (async () => {
      // Calls made before close() finish first: they hold this manager's share of the token.
      if (this.#active > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
      try {
        await this.#connection.release();
      } finally {
        this.#onClose?.();
      }
    })();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The DER signature (the raw r‖s checked and converted as it arrives: no copy of it in between). */
  #signDer(key: TokenKey, digest: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    const here = (): Promise<Uint8Array> =>
      this.#connection.pool.use(
        (session) =>
          new Promise<Uint8Array>((resolve, reject) => {
            // C_SignInit is synchronous (about 70 µs on SoftHSM2, which decrypts the key there, and milliseconds
            // when it waits on SoftHSM2's locks behind C_Sign calls); C_Sign runs on the libuv thread pool.
            session
              .createSign('ECDSA', key.privateKey as unknown as Key)
              .once(Buffer.from(digest), (error, signature) => {
                if (error) reject(error);
                else {
                  try {
                    resolve(key.der(signature));
                  } catch (failure) {
                    reject(failure);
                  }
                }
              });
          }),
        signal,
      );
    // On a signing thread once one is ready; here until then (one-shot commands, the first signatures).
    const threads = this.#connection.signThreads;
    return threads ? threads.sign(key.privateKey.handle, digest, signal, here, key.der) : here();
  }

  /** The key an id names, from the cache or the token. */
  async #key(id: string, signal?: AbortSignal): Promise<TokenKey> {
    const cached = this.#connection.cache.get(id) as Promise<TokenKey> | undefined;
    if (cached) return cached;
    const lookup = this.#pool(
      (s) => this.#lookup(s, id),
      signal,
      `cannot read key "${id}" on token "${this.tokenLabel}"`,
    );
    this.#connection.cache.set(id, lookup);
    lookup.then(
      (key) => known.set(lookup, key),
      () => {
        if (this.#connection.cache.get(id) === lookup) this.#connection.cache.delete(id);
      },
    );
    return lookup;
  }

  #lookup(session: Session, id: string): TokenKey {
    const query = keyQuery(id);
    const privates = findPrivate(session, query);
    if (privates.length === 0) throw this.#notFound(id);
    if (privates.length > 1) throw this.#ambiguous(id, privates.length);
    const privateKey = privates[0]!;
    const what = `key "${id}" on token "${this.tokenLabel}"`;
    const keyType = privateKey.getAttribute('keyType') as number;
    if (keyType !== CKK_EC) {
      const { KeyType } = graphene();
      throw new CosignkitError(
        'ALGORITHM_UNSUPPORTED',
        `${what} is a ${KeyType[keyType] ?? `type ${keyType}`} key; cosignkit signs with EC keys (P-256, P-384)`,
      );
    }
    const algorithm = algorithmOfParams(privateKey.getAttribute(CKA_EC_PARAMS), what);
    const publicObject = findPublicFor(session, privateKey, query)[0];
    // Some modules keep CKA_EC_POINT on the private key too; SoftHSM keeps it on the public object only.
    const point = publicObject ? publicObject.getAttribute(CKA_EC_POINT) : tryAttribute(privateKey, CKA_EC_POINT);
    if (!point) throw new CosignkitError('KEY_NOT_FOUND', `${what} has no public key object on the token`);
    const publicKey = publicKeyFromPoint(algorithm, point, what);
    const label = readLabel(privateKey);
    const rawLength = 2 * (ALGORITHMS[algorithm].coordinateLength ?? 0);
    return {
      der: (raw, from = 0, to = raw.length) => {
        if (to - from !== rawLength) {
          throw new CosignkitError(
            'BACKEND_FAILURE',
            `the token returned a ${to - from}-byte signature; expected ${rawLength} bytes`,
          );
        }
        return rawToDer(raw, from, to);
      },
      id,
      ...(label ? { label } : {}),
      privateKey,
      algorithm,
      publicKey,
      publicKeyPem: publicKeyPem(publicKey),
      fingerprint: fingerprintOf(publicKey),
    };
  }

  #info(key: TokenKey): KeyInfo {
    return {
      id: key.id,
      ...(key.label !== undefined ? { label: key.label } : {}),
      algorithm: key.algorithm,
      backend: this.backend,
      ref: keyRefText(this.#store, this.tokenLabel, key.id),
      publicKeyPem: key.publicKeyPem,
      fingerprint: key.fingerprint,
    };
  }

  /** Runs a synchronous or async token call on a pooled session, wrapping library errors. */
  async #pool<T>(
    fn: (session: Session) => T | Promise<T>,
    signal?: AbortSignal,
    what = 'PKCS#11 call failed',
  ): Promise<T> {
    try {
      return await this.#connection.pool.use(fn, signal);
    } catch (error) {
      throw wrapPkcs11Error(error, what);
    }
  }

  /** Runs a public operation: refused once close() was called, waited for by close() otherwise. */
  #run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(closedError());
    return this.#track(operation());
  }

  /** Counts an operation in flight until it settles (close() waits for the count to reach zero). */
  #track<T>(promise: Promise<T>): Promise<T> {
    this.#active++;
    promise.then(this.#settled, this.#settled);
    return promise;
  }

  #notFound(id: string): CosignkitError {
    return new CosignkitError('KEY_NOT_FOUND', `no private key "${id}" on token "${this.tokenLabel}"`);
  }

  #ambiguous(id: string, count: number): CosignkitError {
    return new CosignkitError(
      'USAGE',
      `${count} private keys are labelled "${id}" on token "${this.tokenLabel}": name the key by id (id:<hex>) instead`,
    );
  }
}

type Query = { label: string } | { id: Buffer };

/**
 * The key each settled lookup in a connection's cache found, so that a signature with a known key reads it
 * without awaiting the cached promise. Keyed by that promise: a lookup dropped from the cache (a stale handle,
 * a deleted key) is no longer reached, and its entry goes with it.
 */
const known = new WeakMap<object, TokenKey>();

function closedError(): CosignkitError {
  return new CosignkitError('BACKEND_UNAVAILABLE', 'this PKCS#11 key store is closed');
}

function findObjects(
  session: Session,
  template: Record<string, unknown>,
  objectClass = graphene().ObjectClass.PRIVATE_KEY,
): SessionObject[] {
  const collection = session.find({ class: objectClass, token: true, ...template });
  const out: SessionObject[] = [];
  for (let i = 0; i < collection.length; i++) out.push(collection.items(i));
  return out;
}

function findPrivate(session: Session, query: Query): SessionObject[] {
  return findObjects(session, { ...query });
}

/** The public halves of a private key: same CKA_ID when it has one, else same label. */
function findPublicFor(session: Session, privateKey: SessionObject, query: Query): SessionObject[] {
  const { ObjectClass } = graphene();
  const id = privateKey.getAttribute('id') as Buffer | undefined;
  if (id && id.length > 0) {
    const byId = findObjects(session, { id }, ObjectClass.PUBLIC_KEY);
    if (byId.length > 0) return byId;
  }
  const label = 'label' in query ? query.label : readLabel(privateKey);
  return label ? findObjects(session, { label }, ObjectClass.PUBLIC_KEY) : [];
}

function readLabel(object: SessionObject): string | undefined {
  const label = object.getAttribute('label') as string | undefined;
  return label ? label : undefined;
}

function tryAttribute(object: SessionObject, type: number): Buffer | undefined {
  try {
    return object.getAttribute(type);
  } catch {
    return undefined; // CKR_ATTRIBUTE_TYPE_INVALID: the module does not keep it there
  }
}
