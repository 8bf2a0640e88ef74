import { createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  ALGORITHMS,
  assertDigestLength,
  CosignkitError,
  fingerprintOf,
  formatKeyRef,
  silentLogger,
  toCosignkitError,
  type GenerateKeyOptions,
  type KeyAlgorithm,
  type KeyInfo,
  type KeyManager,
  type Logger,
  type SignOptions,
} from '@cosignkit/core';
import { EsysSigner, OPEN_TCTI } from './esys/esys-signer.js';
import { loadEsys } from './esys/esys-library.js';
import { FapiContext } from './fapi/fapi-context.js';
import { RC } from './fapi/fapi-errors.js';
import { loadFapi, type FapiLibrary } from './fapi/fapi-library.js';
import { CURVES, keyPath, PROFILES, profileOfAlgorithm, type TpmProfile } from './fapi/fapi-profiles.js';
import { prepareStore, type FapiStore } from './fapi/fapi-store.js';
import { checkKeyName, type TpmSettings } from './tpm-settings.js';

/**
 * FAPI's key type for cosignkit keys: a signing key with no authorization value, exempt from dictionary-attack
 * counting (there is no password to guess). FAPI adds fixedTPM, fixedParent and sensitiveDataOrigin: the
 * private part is created inside the TPM and can never leave it.
 */
export const KEY_TYPE = 'sign,noDa';

const TPM2_ALG_SHA256 = 0x000b;

/** The TPMA_OBJECT bits that make a key non-extractable (TPM 2.0 Part 2, 8.3). */
export const TPMA_OBJECT = { fixedTPM: 0x2, fixedParent: 0x10, sensitiveDataOrigin: 0x20 } as const;

export interface TpmKeyAttributes {
  fixedTPM: boolean;
  fixedParent: boolean;
  sensitiveDataOrigin: boolean;
  /** The raw TPMA_OBJECT word. */
  objectAttributes: number;
}

interface Located {
  profile: TpmProfile;
  publicKeyPem: string;
}

/** The keys of one FAPI keystore (one directory, one TPM): P-256 keys under one profile, P-384 under another. */
export class TpmKeyManager implements KeyManager {
  readonly backend = 'tpm';
  readonly #context: FapiContext;
  #esys: EsysSigner | undefined;
  readonly #lib: FapiLibrary;
  readonly #store: FapiStore;
  readonly #settings: TpmSettings;
  readonly #logger: Logger;
  readonly #provisioned = new Map<string, Promise<void>>();
  readonly #located = new Map<string, Located>();

  private constructor(
    lib: FapiLibrary,
    context: FapiContext,
    esys: EsysSigner | undefined,
    store: FapiStore,
    settings: TpmSettings,
    logger: Logger,
  ) {
    this.#lib = lib;
    this.#context = context;
    this.#esys = esys;
    this.#store = store;
    this.#settings = settings;
    this.#logger = logger;
  }

  static async open(settings: TpmSettings, logger: Logger = silentLogger): Promise<TpmKeyManager> {
    const lib = await loadFapi();
    const store = await prepareStore(settings.home, settings.tcti);
    const recover =
      settings.flushStaleHandles && settings.tcti !== '' ? () => flushStaleHandles(settings.tcti, logger) : undefined;
    const context = await FapiContext.initialize(
      lib,
      store.configs.p256,
      settings.tcti,
      recover ? { recoverStaleHandles: recover } : {},
    );
    let esys: EsysSigner | undefined;
    if (settings.signWith === 'esys') {
      try {
        esys = new EsysSigner(await loadEsys(), settings.tcti, {
          decode: (rc) => lib.Tss2_RC_Decode(rc),
          ...(recover ? { recoverStaleHandles: recover } : {}),
        });
      } catch (error) {
        await context.finalize();
        throw error;
      }
    }
    return new TpmKeyManager(lib, context, esys, store, settings, logger);
  }

  /** The keystore directory (one per TPM under the TPM home). */
  get storeDir(): string {
    return this.#store.dir;
  }

  async generateKeyPair(options: GenerateKeyOptions = {}): Promise<KeyInfo> {
    options.signal?.throwIfAborted();
    const name = options.label ?? `key-${randomBytes(4).toString('hex')}`;
    checkKeyName(name);
    const algorithm = options.algorithm ?? PROFILES[this.#settings.curve ?? 'p256'].algorithm;
    const profile = profileOfAlgorithm(algorithm);
    if (!profile) {
      throw new CosignkitError(
        'ALGORITHM_UNSUPPORTED',
        `the TPM backend creates ECDSA P-256 and P-384 keys, not ${algorithm}`,
      );
    }
    // Names are unique across both profiles so that `tpm:<name>` alone always finds one key.
    if (await this.#find(name)) {
      throw new CosignkitError('KEY_EXISTS', `a TPM key named "${name}" already exists in ${this.#store.dir}`);
    }
    // The context's own profile (P-256) must be provisioned too: FAPI refuses every key path otherwise.
    await this.#ensureProvisioned(PROFILES.p256);
    await this.#ensureProvisioned(profile);
    await this.#context.createKey(keyPath(profile, name), KEY_TYPE, `creating TPM key "${name}"`);
    const located = await this.#locate(name);
    this.#logger.info('created TPM key', { name, algorithm });
    return this.#info(name, located);
  }

  async getPublicKey(id: string): Promise<KeyObject> {
    return createPublicKey((await this.#locate(id)).publicKeyPem);
  }

  async getPublicKeyPem(id: string): Promise<string> {
    return (await this.#locate(id)).publicKeyPem;
  }

  async getPublicKeyFingerprint(id: string): Promise<string> {
    return fingerprintOf(await this.getPublicKey(id));
  }

  async signDigest(id: string, digest: Uint8Array, options: SignOptions = {}): Promise<Uint8Array> {
    try {
      options.signal?.throwIfAborted();
      const { profile } = await this.#locate(id);
      // FAPI signs a digest of any length; a short one would make a signature nobody can verify.
      assertDigestLength(profile.algorithm, digest);
      options.signal?.throwIfAborted();
      const path = keyPath(profile, id);
      const action = `signing with TPM key "${id}"`;
      const esys = this.#esys;
      if (esys) {
        try {
          return await esys.sign(
            {
              path,
              parentHandle: profile.srkHandle,
              // cosign hashes with SHA-256 for every ECDSA key, P-384 too: the scheme follows the digest.
              hashAlg: digest.length === 32 ? TPM2_ALG_SHA256 : profile.hashAlg,
              coordinateLength: ALGORITHMS[profile.algorithm].coordinateLength!,
              blobs: () => this.#context.tpmBlobs(path, action),
            },
            digest,
            action,
          );
        } catch (error) {
          if (!CosignkitError.isInstance(error) || error.details.esysStep !== OPEN_TCTI) throw error;
          // Either the TPM is down (Fapi_Sign fails the same way) or it takes one connection at a time
          // (/dev/tpm0) and the FAPI context holds it: then sign through FAPI from now on.
          const signature = await this.#fapiSign(path, profile, digest, action);
          this.#logger.warn('the TPM refused a second connection; signing through Fapi_Sign', {
            tcti: this.#settings.tcti,
          });
          if (this.#esys === esys) this.#esys = undefined;
          await esys.close();
          return signature;
        }
      }
      return await this.#fapiSign(path, profile, digest, action);
    } catch (error) {
      throw toCosignkitError(error, 'BACKEND_FAILURE');
    }
  }

  async #fapiSign(path: string, profile: TpmProfile, digest: Uint8Array, action: string): Promise<Uint8Array> {
    if (digest.length !== ALGORITHMS[profile.algorithm].digestLength) {
      throw new CosignkitError(
        'NOT_SUPPORTED',
        `Fapi_Sign signs ${profile.algorithm} keys over their profile's hash only; use signWith "esys"`,
      );
    }
    return (await this.#context.sign(path, digest, action)).signature;
  }

  async verifySignature(id: string, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
    const { profile, publicKeyPem } = await this.#locate(id);
    try {
      return verify(ALGORITHMS[profile.algorithm].hash, message, { key: publicKeyPem, dsaEncoding: 'der' }, signature);
    } catch {
      // A signature that is not DER at all does not verify; that is an answer, not a failure.
      return false;
    }
  }

  async getAlgorithm(id: string): Promise<KeyAlgorithm> {
    return (await this.#locate(id)).profile.algorithm;
  }

  async listKeys(): Promise<KeyInfo[]> {
    const infos: KeyInfo[] = [];
    for (const curve of CURVES) {
      const profile = PROFILES[curve];
      const parent = keyPath(profile, '');
      let paths: string[];
      try {
        paths = await this.#context.list(parent.slice(0, -1), 'listing TPM keys');
      } catch (error) {
        if (rcOf(error) === RC.FAPI_NOT_PROVISIONED) continue;
        throw error;
      }
      for (const path of paths) {
        if (!path.startsWith(parent)) continue;
        const name = path.slice(parent.length);
        if (name === '' || name.includes('/')) continue;
        infos.push(this.#info(name, await this.#locate(name)));
      }
    }
    return infos.sort((a, b) => a.id.localeCompare(b.id));
  }

  async deleteKey(id: string): Promise<void> {
    const { profile } = await this.#locate(id);
    await this.#context.delete(keyPath(profile, id), `deleting TPM key "${id}"`);
    this.#located.delete(id);
    this.#esys?.forget(keyPath(profile, id));
  }

  /**
   * The key's TPMA_OBJECT bits as the TPM holds them. The keystore's public area is bound to the private
   * blob (the TPM checks the name on load), so these are the attributes the TPM enforces.
   */
  async keyAttributes(id: string): Promise<TpmKeyAttributes> {
    const { profile } = await this.#locate(id);
    const blobs = await this.#context.tpmBlobs(keyPath(profile, id), `reading TPM key "${id}"`);
    // TPM2B_PUBLIC: size (2), type (2), nameAlg (2), objectAttributes (4), …
    if (blobs.public.length < 10) throw new CosignkitError('KEY_MALFORMED', `TPM key "${id}": public area too short`);
    const word = Buffer.from(blobs.public).readUInt32BE(6);
    return {
      fixedTPM: (word & TPMA_OBJECT.fixedTPM) !== 0,
      fixedParent: (word & TPMA_OBJECT.fixedParent) !== 0,
      sensitiveDataOrigin: (word & TPMA_OBJECT.sensitiveDataOrigin) !== 0,
      objectAttributes: word,
    };
  }

  async close(): Promise<void> {
    await this.#esys?.close();
    await this.#context.finalize();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** FAPI provisions the default profile of a context's config: one short-lived context per profile. */
  #ensureProvisioned(profile: TpmProfile): Promise<void> {
    let pending = this.#provisioned.get(profile.name);
    if (!pending) {
      pending = this.#provision(profile);
      this.#provisioned.set(profile.name, pending);
      pending.catch(() => this.#provisioned.delete(profile.name));
    }
    return pending;
  }

  async #provision(profile: TpmProfile): Promise<void> {
    const context = await FapiContext.initialize(this.#lib, this.#store.configs[profile.curve], this.#store.tcti);
    try {
      const outcome = await context.provision();
      if (outcome === 'provisioned')
        this.#logger.info('provisioned the TPM keystore', { profile: profile.name, dir: this.#store.dir });
    } catch (error) {
      const cause = toCosignkitError(error, 'BACKEND_FAILURE');
      if (cause.code === 'BACKEND_UNAVAILABLE') throw cause;
      throw new CosignkitError(
        'BACKEND_UNAVAILABLE',
        `the TPM keystore ${this.#store.dir} is not provisioned for ${profile.curve.toUpperCase()} keys and provisioning failed ` +
          `(${cause.message}); a TPM whose owner hierarchy has a password cannot be provisioned by cosignkit`,
        { cause, details: { ...cause.details, reason: 'not-provisioned' } },
      );
    } finally {
      await context.finalize();
    }
  }

  async #locate(name: string): Promise<Located> {
    const found = await this.#find(name);
    if (!found) throw new CosignkitError('KEY_NOT_FOUND', `no TPM key named "${name}" in ${this.#store.dir}`);
    return found;
  }

  /** Looks the name up under the reference's curve first, then the other profile. */
  async #find(name: string): Promise<Located | undefined> {
    checkKeyName(name);
    const cached = this.#located.get(name);
    if (cached) return cached;
    const order = this.#settings.curve === 'p384' ? (['p384', 'p256'] as const) : (['p256', 'p384'] as const);
    for (const curve of order) {
      const profile = PROFILES[curve];
      let exported: Record<string, unknown>;
      try {
        exported = await this.#context.exportKey(keyPath(profile, name), `reading TPM key "${name}"`);
      } catch (error) {
        const rc = rcOf(error);
        if (
          rc === RC.FAPI_KEY_NOT_FOUND ||
          rc === RC.FAPI_PATH_NOT_FOUND ||
          rc === RC.FAPI_BAD_PATH ||
          rc === RC.FAPI_NOT_PROVISIONED
        )
          continue;
        throw error;
      }
      const publicKeyPem = exported.pem_ext_public;
      if (typeof publicKeyPem !== 'string') {
        throw new CosignkitError('KEY_MALFORMED', `TPM key "${name}": the keystore holds no public key for it`);
      }
      const located = { profile, publicKeyPem };
      this.#located.set(name, located);
      return located;
    }
    return undefined;
  }

  #info(name: string, { profile, publicKeyPem }: Located): KeyInfo {
    const query: Record<string, string> = {};
    if (profile.curve !== 'p256') query.curve = profile.curve;
    if (this.#settings.tctiInRef) query.tcti = this.#settings.tcti;
    return {
      id: name,
      label: name,
      algorithm: profile.algorithm,
      backend: 'tpm',
      ref: formatKeyRef({ scheme: 'tpm', path: name, query }),
      publicKeyPem,
      fingerprint: fingerprintOf(createPublicKey(publicKeyPem)),
    };
  }
}

function rcOf(error: unknown): number | undefined {
  const rc = CosignkitError.isInstance(error) ? error.details.rc : undefined;
  return typeof rc === 'number' ? rc : undefined;
}

const run = promisify(execFile);

/** Flushes every transient object and loaded session: only safe on a TPM no other process is using. */
async function flushStaleHandles(tcti: string, logger: Logger): Promise<void> {
  logger.warn('flushing stale TPM handles', { tcti });
  try {
    for (const flag of ['--transient-object', '--loaded-session']) {
      await run('tpm2_flushcontext', ['-T', tcti, flag], { env: { ...process.env, TSS2_LOG: 'all+NONE' } });
    }
  } catch (error) {
    throw new CosignkitError(
      'BACKEND_UNAVAILABLE',
      `cannot flush stale TPM handles with tpm2_flushcontext: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
