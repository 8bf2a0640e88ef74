import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CosignkitError } from '@cosignkit/core';
import { CURVES, PROFILES, type TpmCurve } from './fapi-profiles.js';

/**
 * The FAPI files of one keystore: cosignkit's own config and profiles, key store and system store, all
 * under one directory per TPM. Nothing under /etc/tpm2-tss or the user's default FAPI directories is read
 * or written. Key blobs are wrapped by one TPM's storage key, so each TCTI gets its own directory.
 */
export interface FapiStore {
  dir: string;
  tcti: string;
  /** The FAPI config file per profile (FAPI provisions the config's default profile only). */
  configs: Readonly<Record<TpmCurve, string>>;
}

export function storeDir(home: string, tcti: string): string {
  return join(home, tcti === '' ? 'default' : tcti.replace(/[^A-Za-z0-9._-]+/g, '_'));
}

/** Writes (idempotently, atomically) the config and profile files of the store for `tcti` under `home`. */
export async function prepareStore(home: string, tcti: string): Promise<FapiStore> {
  const dir = storeDir(home, tcti);
  const profileDir = join(dir, 'profiles');
  try {
    for (const sub of ['profiles', 'user', 'system', 'log'])
      await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
    for (const curve of CURVES) {
      const profile = PROFILES[curve];
      await writeAtomically(join(profileDir, `${profile.name}.json`), JSON.stringify(profile.json, null, 2));
    }
    const configs = {} as Record<TpmCurve, string>;
    for (const curve of CURVES) {
      const config = {
        profile_name: PROFILES[curve].name,
        profile_dir: `${profileDir}/`,
        user_dir: join(dir, 'user'),
        system_dir: join(dir, 'system'),
        log_dir: join(dir, 'log'),
        // '' lets tpm2-tss pick the system default (tabrmd, /dev/tpmrm0, /dev/tpm0, …).
        tcti,
        system_pcrs: [],
        // Simulators and many firmware TPMs carry no EK certificate; keys here do not depend on one.
        ek_cert_less: 'yes',
      };
      configs[curve] = join(dir, `fapi-config-${curve}.json`);
      await writeAtomically(configs[curve], JSON.stringify(config, null, 2));
    }
    return { dir, tcti, configs };
  } catch (error) {
    if (CosignkitError.isInstance(error)) throw error;
    throw new CosignkitError('IO', `cannot prepare the TPM keystore in ${dir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temp, `${text}\n`, { mode: 0o600 });
  await rename(temp, path);
}
