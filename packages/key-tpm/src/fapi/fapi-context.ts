import { CosignkitError } from '@cosignkit/core';
import { fapiError, isStaleHandles, RC } from './fapi-errors.js';
import { callAsync, type FapiLibrary, type Out, type Pointer } from './fapi-library.js';

export interface FapiContextOptions {
  /** Called once when a command fails for stale handles; the command is then retried once. */
  recoverStaleHandles?: () => Promise<void>;
}

// FAPI reads its config file name from TSS2_FAPICONF during Fapi_Initialize (the uri argument must be NULL),
// so initializations in this process take turns around the variable.
let initTurn: Promise<unknown> = Promise.resolve();

/**
 * One FAPI context. FAPI contexts are not re-entrant (a second call while one runs fails with 0x60007
 * "wrong order"), so every call waits its turn in a queue; the calls themselves run on koffi's worker thread.
 */
export class FapiContext {
  readonly #lib: FapiLibrary;
  readonly #tcti: string;
  readonly #configFile: string;
  readonly #options: FapiContextOptions;
  #pointer: Pointer;
  #tail: Promise<unknown> = Promise.resolve();
  #finalized = false;

  private constructor(
    lib: FapiLibrary,
    pointer: Pointer,
    configFile: string,
    tcti: string,
    options: FapiContextOptions,
  ) {
    this.#lib = lib;
    this.#pointer = pointer;
    this.#configFile = configFile;
    this.#tcti = tcti;
    this.#options = options;
  }

  static async initialize(
    lib: FapiLibrary,
    configFile: string,
    tcti: string,
    options: FapiContextOptions = {},
  ): Promise<FapiContext> {
    return new FapiContext(lib, await initializePointer(lib, configFile, tcti), configFile, tcti, options);
  }

  get closed(): boolean {
    return this.#finalized;
  }

  async provision(): Promise<'provisioned' | 'already'> {
    return this.#run('provisioning the TPM keystore', async (ctx) => {
      const rc = await callAsync(this.#lib.Fapi_Provision, ctx, null, null, null);
      return rc === RC.FAPI_ALREADY_PROVISIONED
        ? { rc: 0, value: 'already' as const }
        : { rc, value: 'provisioned' as const };
    });
  }

  async createKey(path: string, type: string, action: string): Promise<void> {
    await this.#run(action, async (ctx) => ({
      rc: await callAsync(this.#lib.Fapi_CreateKey, ctx, path, type, null, null),
      value: undefined,
    }));
  }

  /** Signs a digest; FAPI returns an ASN.1 DER ECDSA signature and the key's public PEM. */
  async sign(
    path: string,
    digest: Uint8Array,
    action: string,
  ): Promise<{ signature: Uint8Array; publicKeyPem: string }> {
    return this.#run(action, async (ctx) => {
      const signature: Out<Pointer> = [null];
      const size: Out<number> = [0];
      const publicKey: Out<Pointer> = [null];
      const certificate: Out<Pointer> = [null];
      const rc = await callAsync(
        this.#lib.Fapi_Sign,
        ctx,
        path,
        null,
        digest,
        digest.length,
        signature,
        size,
        publicKey,
        certificate,
      );
      // Outputs are only defined on success; reading them after a failure crashed the process.
      if (rc !== RC.SUCCESS) return { rc, value: { signature: new Uint8Array(0), publicKeyPem: '' } };
      try {
        return {
          rc,
          value: {
            signature: this.#lib.bytes(signature[0], Number(size[0])),
            publicKeyPem: this.#lib.string(publicKey[0]),
          },
        };
      } finally {
        for (const p of [signature[0], publicKey[0], certificate[0]]) if (p !== null) this.#lib.Fapi_Free(p);
      }
    });
  }

  /** Every path under `searchPath` (FAPI returns them colon-separated). */
  async list(searchPath: string, action: string): Promise<string[]> {
    return this.#run(action, async (ctx) => {
      const out: Out<Pointer> = [null];
      const rc = await callAsync(this.#lib.Fapi_List, ctx, searchPath, out);
      if (rc !== RC.SUCCESS) return { rc, value: [] };
      return {
        rc,
        value: this.#take(out[0])
          .split(':')
          .filter((p) => p !== ''),
      };
    });
  }

  async delete(path: string, action: string): Promise<void> {
    await this.#run(action, async (ctx) => ({
      rc: await callAsync(this.#lib.Fapi_Delete, ctx, path),
      value: undefined,
    }));
  }

  /** The key's public part as FAPI's JSON (with `pem_ext_public`); `newParent` asks for a duplication blob instead. */
  async exportKey(path: string, action: string, newParent: string | null = null): Promise<Record<string, unknown>> {
    return this.#run(action, async (ctx) => {
      const out: Out<Pointer> = [null];
      const rc = await callAsync(this.#lib.Fapi_ExportKey, ctx, path, newParent, out);
      if (rc !== RC.SUCCESS) return { rc, value: {} };
      return { rc, value: JSON.parse(this.#take(out[0])) as Record<string, unknown> };
    });
  }

  /** Imports a public key or policy (FAPI JSON or PEM) under `/ext/…` or `/policy/…`. */
  async importObject(path: string, data: string, action: string): Promise<void> {
    await this.#run(action, async (ctx) => ({
      rc: await callAsync(this.#lib.Fapi_Import, ctx, path, data),
      value: undefined,
    }));
  }

  /** The key's TPM2B_PUBLIC and TPM2B_PRIVATE (the latter encrypted by the parent key inside the TPM). */
  async tpmBlobs(path: string, action: string): Promise<{ public: Uint8Array; private: Uint8Array }> {
    return this.#run(action, async (ctx) => {
      const pub: Out<Pointer> = [null];
      const pubSize: Out<number> = [0];
      const priv: Out<Pointer> = [null];
      const privSize: Out<number> = [0];
      const policy: Out<Pointer> = [null];
      const rc = await callAsync(this.#lib.Fapi_GetTpmBlobs, ctx, path, pub, pubSize, priv, privSize, policy);
      if (rc !== RC.SUCCESS) return { rc, value: { public: new Uint8Array(0), private: new Uint8Array(0) } };
      try {
        return {
          rc,
          value: {
            public: this.#lib.bytes(pub[0], Number(pubSize[0])),
            private: this.#lib.bytes(priv[0], Number(privSize[0])),
          },
        };
      } finally {
        for (const p of [pub[0], priv[0], policy[0]]) if (p !== null) this.#lib.Fapi_Free(p);
      }
    });
  }

  /** Waits for queued calls, then releases the context. Idempotent. */
  async finalize(): Promise<void> {
    this.#finalized = true;
    await this.#tail.catch(() => undefined);
    this.#release();
  }

  #release(): void {
    if (this.#pointer === null) return;
    const cell: Out<Pointer> = [this.#pointer];
    this.#pointer = null;
    this.#lib.Fapi_Finalize(cell);
  }

  #take(pointer: Pointer): string {
    if (pointer === null) return '';
    try {
      return this.#lib.string(pointer);
    } finally {
      this.#lib.Fapi_Free(pointer);
    }
  }

  #run<T>(action: string, call: (ctx: Pointer) => Promise<{ rc: number; value: T }>): Promise<T> {
    const attempt = async (): Promise<{ rc: number; value: T }> => {
      if (this.#finalized) throw new CosignkitError('USAGE', `${action}: the TPM key manager is closed`);
      // A recovery that could not reopen the context (TPM down meanwhile) leaves it released: try again now.
      this.#pointer ??= await initializePointer(this.#lib, this.#configFile, this.#tcti);
      return call(this.#pointer);
    };
    const next = this.#tail.then(async () => {
      let result = await attempt();
      if (isStaleHandles(result.rc) && this.#options.recoverStaleHandles) {
        // A context whose command failed midway is not reusable (retrying on it crashed tpm2-tss 3.2): flush, then start a fresh one.
        this.#release();
        await this.#options.recoverStaleHandles();
        this.#pointer = await initializePointer(this.#lib, this.#configFile, this.#tcti);
        result = await attempt();
      }
      if (result.rc !== RC.SUCCESS) {
        throw fapiError({ action, rc: result.rc, decoded: this.#lib.Tss2_RC_Decode(result.rc), tcti: this.#tcti });
      }
      return result.value;
    });
    this.#tail = next.catch(() => undefined);
    return next;
  }
}

async function initializePointer(lib: FapiLibrary, configFile: string, tcti: string): Promise<Pointer> {
  const turn = initTurn.then(async () => {
    const saved = process.env.TSS2_FAPICONF;
    process.env.TSS2_FAPICONF = configFile;
    try {
      const cell: Out<Pointer> = [null];
      const rc = await callAsync(lib.Fapi_Initialize, cell, null);
      if (rc !== RC.SUCCESS) throw fapiError({ action: 'opening the TPM', rc, decoded: lib.Tss2_RC_Decode(rc), tcti });
      return cell[0];
    } finally {
      if (saved === undefined) delete process.env.TSS2_FAPICONF;
      else process.env.TSS2_FAPICONF = saved;
    }
  });
  initTurn = turn.catch(() => undefined);
  return turn;
}
