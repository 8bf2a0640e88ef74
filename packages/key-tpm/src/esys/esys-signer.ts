import { CosignkitError, rawToDer } from '@cosignkit/core';
import { fapiError, isStaleHandles, layerOf } from '../fapi/fapi-errors.js';
import { callAsync, type Out, type Pointer } from '../fapi/fapi-library.js';
import { ESYS_TR, type EsysLibrary } from './esys-library.js';

/** A key FAPI created, as the ESYS path needs it. */
export interface EsysKey {
  /** Identifies the key in the signer's cache (its FAPI path). */
  path: string;
  /** The persistent handle of the storage key FAPI created the key under. */
  parentHandle: number;
  /** TPM2_ALG_SHA256 or TPM2_ALG_SHA384. */
  hashAlg: number;
  /** Bytes in r and in s. */
  coordinateLength: number;
  /** The key's TPM2B_PUBLIC and TPM2B_PRIVATE, as Fapi_GetTpmBlobs returns them. */
  blobs(): Promise<{ public: Uint8Array; private: Uint8Array }>;
}

export interface EsysSignerOptions {
  decode(rc: number): string;
  recoverStaleHandles?: () => Promise<void>;
}

const TPM2_ALG_ECDSA = 0x0018;
// A NULL hash-check ticket: TPM2_ST_HASHCHECK, TPM2_RH_NULL, empty digest (the key is not restricted).
const NULL_TICKET = Buffer.from([0x80, 0x24, 0x40, 0x00, 0x00, 0x07, 0x00, 0x00]);

/** The step whose failure means this TPM cannot take a second connection (e.g. /dev/tpm0, opened by FAPI). */
export const OPEN_TCTI = 'opening the TCTI';

/** A failed ESYS call not yet classified (#error does that, with FAPI's decoder): its return code and step. */
interface EsysFailure {
  rc: number;
  step: string;
}

function esysFailure(rc: number, step: string): CosignkitError {
  return new CosignkitError('BACKEND_FAILURE', `${step} failed with 0x${rc.toString(16)}`, {
    details: { esysFailure: { rc, step } satisfies EsysFailure },
  });
}

function esysFailureOf(error: unknown): EsysFailure | undefined {
  return CosignkitError.isInstance(error) ? (error.details.esysFailure as EsysFailure | undefined) : undefined;
}

/**
 * Signs through ESYS with keys FAPI made. FAPI's Fapi_Sign loads the key and opens salted sessions on every
 * call, spending ~7 ms of client CPU in OpenSSL; here the key is loaded once, kept as a saved context, and
 * each signature is TPM2_ContextLoad + TPM2_Sign + TPM2_FlushContext with the (empty) password, so no
 * object stays in the TPM between calls. One ESYS context, one call at a time (a queue).
 */
export class EsysSigner {
  readonly #lib: EsysLibrary;
  readonly #tcti: string;
  readonly #options: EsysSignerOptions;
  #tctiContext: Pointer = null;
  #esys: Pointer = null;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;
  readonly #saved = new Map<string, Pointer>();
  readonly #parents = new Map<number, number>();

  constructor(lib: EsysLibrary, tcti: string, options: EsysSignerOptions) {
    this.#lib = lib;
    this.#tcti = tcti;
    this.#options = options;
  }

  /** Returns an ASN.1 DER ECDSA signature of `digest`. */
  sign(key: EsysKey, digest: Uint8Array, action: string): Promise<Uint8Array> {
    const next = this.#tail.then(async () => {
      if (this.#closed) throw new CosignkitError('USAGE', `${action}: the TPM key manager is closed`);
      try {
        return await this.#attempt(key, digest);
      } catch (caught) {
        const error = esysFailureOf(caught);
        if (!error) throw caught;
        // After a transport or ESYS-state failure the context is out of step with the TPM: start afresh next time.
        if (layerOf(error.rc) !== 0) this.#reset();
        if (isStaleHandles(error.rc) && this.#options.recoverStaleHandles) {
          this.#reset();
          await this.#options.recoverStaleHandles();
          try {
            return await this.#attempt(key, digest);
          } catch (again) {
            const failure = esysFailureOf(again);
            throw failure ? this.#error(action, failure) : again;
          }
        }
        throw this.#error(action, error);
      }
    });
    this.#tail = next.catch(() => undefined);
    return next;
  }

  /** Drops the saved context of a key (deleted, or replaced). */
  forget(path: string): void {
    const saved = this.#saved.get(path);
    if (saved !== undefined) {
      this.#saved.delete(path);
      this.#lib.Esys_Free(saved);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#tail.catch(() => undefined);
    this.#reset();
  }

  async #attempt(key: EsysKey, digest: Uint8Array): Promise<Uint8Array> {
    const esys = this.#open();
    let handle: number;
    try {
      handle = await this.#contextLoad(esys, await this.#savedContext(esys, key));
    } catch (error) {
      // A saved context does not survive a TPM restart: load the key from its blobs once more.
      const failure = esysFailureOf(error);
      const staleContext = failure?.step === 'TPM2_ContextLoad' && layerOf(failure.rc) === 0;
      if (!staleContext) throw error;
      this.forget(key.path);
      handle = await this.#contextLoad(esys, await this.#savedContext(esys, key));
    }
    const signature: Out<Pointer> = [null];
    let rc: number;
    try {
      const tpmDigest = this.#lib.unmarshal('TPM2B_DIGEST', Buffer.concat([u16(digest.length), digest]));
      const scheme = this.#lib.unmarshal('TPMT_SIG_SCHEME', Buffer.concat([u16(TPM2_ALG_ECDSA), u16(key.hashAlg)]));
      const ticket = this.#lib.unmarshal('TPMT_TK_HASHCHECK', NULL_TICKET);
      rc = await callAsync(
        this.#lib.Esys_Sign,
        esys,
        handle,
        ESYS_TR.PASSWORD,
        ESYS_TR.NONE,
        ESYS_TR.NONE,
        tpmDigest,
        scheme,
        ticket,
        signature,
      );
    } finally {
      await callAsync(this.#lib.Esys_FlushContext, esys, handle);
    }
    if (rc !== 0) throw esysFailure(rc, 'TPM2_Sign');
    let wire: Buffer;
    try {
      wire = this.#lib.marshalSignature(signature[0]);
    } finally {
      this.#lib.Esys_Free(signature[0]);
    }
    return rawToDer(ecdsaRaw(wire, key.coordinateLength));
  }

  async #contextLoad(esys: Pointer, saved: Pointer): Promise<number> {
    const handle: Out<number> = [0];
    const rc = await callAsync(this.#lib.Esys_ContextLoad, esys, saved, handle);
    if (rc !== 0) throw esysFailure(rc, 'TPM2_ContextLoad');
    return handle[0];
  }

  async #savedContext(esys: Pointer, key: EsysKey): Promise<Pointer> {
    const known = this.#saved.get(key.path);
    if (known !== undefined) return known;
    const parent = await this.#parent(esys, key.parentHandle);
    const blobs = await key.blobs();
    const loaded: Out<number> = [0];
    let rc = await callAsync(
      this.#lib.Esys_Load,
      esys,
      parent,
      ESYS_TR.PASSWORD,
      ESYS_TR.NONE,
      ESYS_TR.NONE,
      this.#lib.unmarshal('TPM2B_PRIVATE', blobs.private),
      this.#lib.unmarshal('TPM2B_PUBLIC', blobs.public),
      loaded,
    );
    if (rc !== 0) throw esysFailure(rc, 'TPM2_Load');
    const saved: Out<Pointer> = [null];
    try {
      rc = await callAsync(this.#lib.Esys_ContextSave, esys, loaded[0], saved);
    } finally {
      await callAsync(this.#lib.Esys_FlushContext, esys, loaded[0]);
    }
    if (rc !== 0) throw esysFailure(rc, 'TPM2_ContextSave');
    this.#saved.set(key.path, saved[0]);
    return saved[0];
  }

  async #parent(esys: Pointer, tpmHandle: number): Promise<number> {
    const known = this.#parents.get(tpmHandle);
    if (known !== undefined) return known;
    const object: Out<number> = [0];
    const rc = await callAsync(
      this.#lib.Esys_TR_FromTPMPublic,
      esys,
      tpmHandle,
      ESYS_TR.NONE,
      ESYS_TR.NONE,
      ESYS_TR.NONE,
      object,
    );
    if (rc !== 0) throw esysFailure(rc, 'TPM2_ReadPublic of the storage key');
    this.#parents.set(tpmHandle, object[0]);
    return object[0];
  }

  #open(): Pointer {
    if (this.#esys !== null) return this.#esys;
    const tcti: Out<Pointer> = [null];
    let rc = this.#lib.Tss2_TctiLdr_Initialize(this.#tcti === '' ? null : this.#tcti, tcti) >>> 0;
    if (rc !== 0) throw esysFailure(rc, OPEN_TCTI);
    const esys: Out<Pointer> = [null];
    rc = this.#lib.Esys_Initialize(esys, tcti[0], null) >>> 0;
    if (rc !== 0) {
      this.#lib.Tss2_TctiLdr_Finalize(tcti);
      throw esysFailure(rc, 'Esys_Initialize');
    }
    this.#tctiContext = tcti[0];
    this.#esys = esys[0];
    return this.#esys;
  }

  /** Releases the ESYS context and everything cached with it (the next call starts afresh). */
  #reset(): void {
    for (const saved of this.#saved.values()) this.#lib.Esys_Free(saved);
    this.#saved.clear();
    this.#parents.clear();
    if (this.#esys !== null) this.#lib.Esys_Finalize([this.#esys]);
    if (this.#tctiContext !== null) this.#lib.Tss2_TctiLdr_Finalize([this.#tctiContext]);
    this.#esys = null;
    this.#tctiContext = null;
  }

  #error(action: string, failure: EsysFailure): CosignkitError {
    const error = fapiError({
      action: `${action} (${failure.step})`,
      rc: failure.rc,
      decoded: this.#options.decode(failure.rc),
      tcti: this.#tcti,
    });
    error.details.esysStep = failure.step;
    return error;
  }
}

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

/** TPMT_SIGNATURE (ECDSA) on the wire: sigAlg, hash, TPM2B r, TPM2B s → r‖s, each left-padded. */
function ecdsaRaw(wire: Buffer, coordinateLength: number): Uint8Array {
  let offset = 4;
  const part = (): Buffer => {
    const length = wire.readUInt16BE(offset);
    const value = wire.subarray(offset + 2, offset + 2 + length);
    offset += 2 + length;
    if (value.length > coordinateLength)
      throw new CosignkitError('SIGNATURE_MALFORMED', 'the TPM returned an oversized ECDSA component');
    return Buffer.concat([Buffer.alloc(coordinateLength - value.length), value]);
  };
  if (wire.readUInt16BE(0) !== TPM2_ALG_ECDSA)
    throw new CosignkitError('SIGNATURE_MALFORMED', 'the TPM returned a signature that is not ECDSA');
  return new Uint8Array(Buffer.concat([part(), part()]));
}
