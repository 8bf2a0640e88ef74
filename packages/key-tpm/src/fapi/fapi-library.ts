import { CosignkitError } from '@cosignkit/core';

/** A native pointer as koffi hands it over (an opaque external); `null` is NULL. */
export type Pointer = unknown;
/**
 * An out-parameter cell: koffi writes the value into index 0 when the call returns. Declared `_Inout_` so
 * the C side starts from NULL/0, never from garbage.
 */
export type Out<T> = [T];

type Callback = (error: unknown, rc: number) => void;
interface AsyncFn {
  async(...args: unknown[]): void;
}

/** The TSS2 FAPI functions cosignkit calls, each bound once per process. */
export interface FapiLibrary {
  Fapi_Initialize: AsyncFn;
  Fapi_Finalize(context: Out<Pointer>): void;
  Fapi_Provision: AsyncFn;
  Fapi_CreateKey: AsyncFn;
  Fapi_Sign: AsyncFn;
  Fapi_List: AsyncFn;
  Fapi_Delete: AsyncFn;
  Fapi_ExportKey: AsyncFn;
  Fapi_Import: AsyncFn;
  Fapi_GetTpmBlobs: AsyncFn;
  Fapi_Free(pointer: Pointer): void;
  Tss2_RC_Decode(rc: number): string;
  /** Copies `length` bytes out of native memory (the caller frees the native buffer afterwards). */
  bytes(pointer: Pointer, length: number): Uint8Array;
  /** Copies a NUL-terminated C string out of native memory. */
  string(pointer: Pointer): string;
}

export const FAPI_LIBRARY = 'libtss2-fapi.so.1';
export const RC_LIBRARY = 'libtss2-rc.so.0';

let loading: Promise<FapiLibrary> | undefined;

/** Loads koffi and the TSS2 libraries on first use, so importing the package costs nothing. */
export function loadFapi(): Promise<FapiLibrary> {
  loading ??= load();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

/** Runs a bound FAPI function on koffi's worker thread (a TPM command takes milliseconds; the event loop must not wait). */
export function callAsync(fn: AsyncFn, ...args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const done: Callback = (error, rc) => (error ? reject(error) : resolve(rc >>> 0));
    fn.async(...args, done);
  });
}

async function load(): Promise<FapiLibrary> {
  // tpm2-tss logs warnings and errors to stderr by default; a library must stay quiet (the caller's choice wins).
  process.env.TSS2_LOG ??= 'all+NONE';
  let koffi: typeof import('koffi');
  try {
    const mod = (await import('koffi')) as typeof import('koffi') & { default?: typeof import('koffi') };
    koffi = mod.default ?? mod;
  } catch (error) {
    throw new CosignkitError(
      'BACKEND_UNAVAILABLE',
      `cannot load koffi (the FFI @cosignkit/key-tpm calls the TPM with): ${(error as Error).message}`,
      { cause: error },
    );
  }
  const open = (name: string, pkg: string) => {
    try {
      return koffi.load(name);
    } catch (error) {
      throw new CosignkitError(
        'BACKEND_UNAVAILABLE',
        `cannot load ${name}: install ${pkg} (Debian/Ubuntu: apt-get install libtss2-fapi1 libtss2-rc0)`,
        { cause: error },
      );
    }
  };
  const fapi = open(FAPI_LIBRARY, 'libtss2-fapi1');
  const rc = open(RC_LIBRARY, 'libtss2-rc0');
  const fn = (signature: string) => fapi.func(signature) as unknown as AsyncFn;
  return {
    Fapi_Initialize: fn('uint32_t Fapi_Initialize(_Out_ void **context, const char *uri)'),
    Fapi_Finalize: fapi.func('void Fapi_Finalize(_Inout_ void **context)') as (context: Out<Pointer>) => void,
    Fapi_Provision: fn(
      'uint32_t Fapi_Provision(void *context, const char *authEh, const char *authSh, const char *authLockout)',
    ),
    Fapi_CreateKey: fn(
      'uint32_t Fapi_CreateKey(void *context, const char *path, const char *type, const char *policyPath, const char *authValue)',
    ),
    Fapi_Sign: fn(
      'uint32_t Fapi_Sign(void *context, const char *keyPath, const char *padding, const uint8_t *digest, size_t digestSize, ' +
        '_Inout_ void **signature, _Inout_ size_t *signatureSize, _Inout_ void **publicKey, _Inout_ void **certificate)',
    ),
    Fapi_List: fn('uint32_t Fapi_List(void *context, const char *searchPath, _Inout_ void **pathList)'),
    Fapi_Delete: fn('uint32_t Fapi_Delete(void *context, const char *path)'),
    Fapi_ExportKey: fn(
      'uint32_t Fapi_ExportKey(void *context, const char *path, const char *newParentPath, _Inout_ void **exportedData)',
    ),
    Fapi_Import: fn('uint32_t Fapi_Import(void *context, const char *path, const char *importData)'),
    Fapi_GetTpmBlobs: fn(
      'uint32_t Fapi_GetTpmBlobs(void *context, const char *path, _Inout_ void **tpm2bPublic, _Inout_ size_t *publicSize, ' +
        '_Inout_ void **tpm2bPrivate, _Inout_ size_t *privateSize, _Inout_ void **policy)',
    ),
    Fapi_Free: fapi.func('void Fapi_Free(void *pointer)') as (pointer: Pointer) => void,
    Tss2_RC_Decode: rc.func('const char *Tss2_RC_Decode(uint32_t rc)') as (rc: number) => string,
    bytes: (pointer, length) =>
      pointer === null || length === 0 ? new Uint8Array(0) : new Uint8Array(koffi.view(pointer, length)).slice(),
    string: (pointer) => (pointer === null ? '' : (koffi.decode(pointer, 'char', -1) as string)),
  };
}
