import { CosignkitError } from '@cosignkit/core';
import type { Out, Pointer } from '../fapi/fapi-library.js';

interface AsyncFn {
  async(...args: unknown[]): void;
}

/**
 * The TSS2 ESYS, TCTI loader and marshalling functions of the fast signing path: FAPI keeps the keystore,
 * ESYS signs with the key FAPI made, in one TPM command and without per-call client crypto.
 */
export interface EsysLibrary {
  Tss2_TctiLdr_Initialize(conf: string | null, tcti: Out<Pointer>): number;
  Tss2_TctiLdr_Finalize(tcti: Out<Pointer>): void;
  Esys_Initialize(esys: Out<Pointer>, tcti: Pointer, abi: null): number;
  Esys_Finalize(esys: Out<Pointer>): void;
  Esys_TR_FromTPMPublic: AsyncFn;
  Esys_Load: AsyncFn;
  Esys_ContextSave: AsyncFn;
  Esys_ContextLoad: AsyncFn;
  Esys_FlushContext: AsyncFn;
  Esys_Sign: AsyncFn;
  Esys_Free(pointer: Pointer): void;
  /** Unmarshals TPM wire bytes into a C structure (in a Buffer large enough for any of them). */
  unmarshal(type: MarshalledType, bytes: Uint8Array): Buffer;
  /** Marshals the TPMT_SIGNATURE at `pointer` into TPM wire bytes. */
  marshalSignature(pointer: Pointer): Buffer;
}

export type MarshalledType =
  | 'TPM2B_PUBLIC'
  | 'TPM2B_PRIVATE'
  | 'TPM2B_DIGEST'
  | 'TPMT_SIG_SCHEME'
  | 'TPMT_TK_HASHCHECK';

/** ESYS_TR values (tss2_esys.h). */
export const ESYS_TR = { NONE: 0xfff, PASSWORD: 0x0ff } as const;

// Larger than sizeof() of every structure above in tpm2-tss 3.x (TPM2B_PRIVATE is the largest, ~1.5 KiB).
const STRUCT_BYTES = 8192;

let loading: Promise<EsysLibrary> | undefined;

export function loadEsys(): Promise<EsysLibrary> {
  loading ??= load();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

async function load(): Promise<EsysLibrary> {
  process.env.TSS2_LOG ??= 'all+NONE';
  const mod = (await import('koffi')) as typeof import('koffi') & { default?: typeof import('koffi') };
  const koffi = mod.default ?? mod;
  const open = (name: string, pkg: string) => {
    try {
      return koffi.load(name);
    } catch (error) {
      throw new CosignkitError('BACKEND_UNAVAILABLE', `cannot load ${name}: install ${pkg}`, { cause: error });
    }
  };
  const esys = open('libtss2-esys.so.0', 'libtss2-esys-3.0.2-0');
  const ldr = open('libtss2-tctildr.so.0', 'libtss2-tctildr0');
  const mu = open('libtss2-mu.so.0', 'libtss2-mu0');
  const fn = (signature: string) => esys.func(signature) as unknown as AsyncFn;
  const unmarshalers = new Map<MarshalledType, (b: Uint8Array, n: number, off: Out<number>, dest: Buffer) => number>();
  for (const type of [
    'TPM2B_PUBLIC',
    'TPM2B_PRIVATE',
    'TPM2B_DIGEST',
    'TPMT_SIG_SCHEME',
    'TPMT_TK_HASHCHECK',
  ] as const) {
    unmarshalers.set(
      type,
      mu.func(
        `uint32_t Tss2_MU_${type}_Unmarshal(const uint8_t *buffer, size_t size, _Inout_ size_t *offset, void *dest)`,
      ) as never,
    );
  }
  const marshalSignature = mu.func(
    'uint32_t Tss2_MU_TPMT_SIGNATURE_Marshal(void *src, uint8_t *buffer, size_t size, _Inout_ size_t *offset)',
  ) as (src: Pointer, buffer: Buffer, size: number, offset: Out<number>) => number;
  return {
    Tss2_TctiLdr_Initialize: ldr.func(
      'uint32_t Tss2_TctiLdr_Initialize(const char *nameConf, _Out_ void **tcti)',
    ) as never,
    Tss2_TctiLdr_Finalize: ldr.func('void Tss2_TctiLdr_Finalize(_Inout_ void **tcti)') as never,
    Esys_Initialize: esys.func('uint32_t Esys_Initialize(_Out_ void **esys, void *tcti, void *abiVersion)') as never,
    Esys_Finalize: esys.func('void Esys_Finalize(_Inout_ void **esys)') as never,
    Esys_TR_FromTPMPublic: fn(
      'uint32_t Esys_TR_FromTPMPublic(void *esys, uint32_t tpmHandle, uint32_t s1, uint32_t s2, uint32_t s3, _Out_ uint32_t *object)',
    ),
    Esys_Load: fn(
      'uint32_t Esys_Load(void *esys, uint32_t parent, uint32_t s1, uint32_t s2, uint32_t s3, const void *inPrivate, const void *inPublic, _Out_ uint32_t *object)',
    ),
    Esys_ContextSave: fn('uint32_t Esys_ContextSave(void *esys, uint32_t handle, _Inout_ void **context)'),
    Esys_ContextLoad: fn('uint32_t Esys_ContextLoad(void *esys, void *context, _Out_ uint32_t *object)'),
    Esys_FlushContext: fn('uint32_t Esys_FlushContext(void *esys, uint32_t handle)'),
    Esys_Sign: fn(
      'uint32_t Esys_Sign(void *esys, uint32_t key, uint32_t s1, uint32_t s2, uint32_t s3, const void *digest, const void *scheme, ' +
        'const void *validation, _Inout_ void **signature)',
    ),
    Esys_Free: esys.func('void Esys_Free(void *pointer)') as never,
    unmarshal(type, bytes) {
      const dest = Buffer.alloc(STRUCT_BYTES);
      const offset: Out<number> = [0];
      const rc = unmarshalers.get(type)!(bytes, bytes.length, offset, dest);
      if (rc !== 0)
        throw new CosignkitError('KEY_MALFORMED', `cannot read a ${type} (TSS2 0x${(rc >>> 0).toString(16)})`);
      return dest;
    },
    marshalSignature(pointer) {
      const buffer = Buffer.alloc(1024);
      const offset: Out<number> = [0];
      const rc = marshalSignature(pointer, buffer, buffer.length, offset);
      if (rc !== 0)
        throw new CosignkitError(
          'BACKEND_FAILURE',
          `cannot marshal a TPM signature (TSS2 0x${(rc >>> 0).toString(16)})`,
        );
      return buffer.subarray(0, Number(offset[0]));
    },
  };
}
