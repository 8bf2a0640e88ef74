import type { Module } from 'graphene-pk11';
import { CosignkitError } from '@cosignkit/core';
import { graphene } from './graphene.js';

// CKF_OS_LOCKING_OK: without it SoftHSM crashed the process (SIGSEGV/malloc abort) under concurrent async
// signs on several sessions (RECIPES.md).
const CKF_OS_LOCKING_OK = 2;

interface Entry {
  module: Module;
  users: number;
}

// C_Initialize/C_Finalize are per process and per library: every store on one module shares one load.
const modules = new Map<string, Entry>();

/** Loads and initializes a PKCS#11 module, or takes another reference to the one already loaded. */
export function acquireModule(path: string): Module {
  const known = modules.get(path);
  if (known) {
    known.users++;
    return known.module;
  }
  const { Module } = graphene();
  let module: Module;
  try {
    module = Module.load(path);
  } catch (error) {
    throw new CosignkitError(
      'BACKEND_UNAVAILABLE',
      `cannot load the PKCS#11 module ${path}: ${(error as Error).message}`,
      {
        cause: error,
        details: { modulePath: path },
      },
    );
  }
  try {
    module.initialize({ flags: CKF_OS_LOCKING_OK });
  } catch (error) {
    safely(() => module.close());
    throw new CosignkitError(
      'BACKEND_UNAVAILABLE',
      `cannot initialize the PKCS#11 module ${path}: ${(error as Error).message}`,
      {
        cause: error,
        details: { modulePath: path },
      },
    );
  }
  modules.set(path, { module, users: 1 });
  return module;
}

/** Drops one reference; the last one finalizes and unloads the module. */
export function releaseModule(path: string): void {
  const entry = modules.get(path);
  if (!entry) return;
  if (--entry.users > 0) return;
  modules.delete(path);
  try {
    entry.module.finalize();
  } finally {
    safely(() => entry.module.close());
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // Unloading after a failed initialize/finalize: the first error is the one worth reporting.
  }
}
